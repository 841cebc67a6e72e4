"""Bulk writes on PostgreSQL go through a COPY stage: order, types, idempotency, rollback."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from letta_batch import ids
from letta_batch.db import StatementCounter
from letta_batch.db import models as m
from letta_batch.repositories import (
    delete_rows,
    insert_ignore,
    insert_messages,
    list_agent_messages,
    load_agents,
    load_messages,
    set_message_ids,
    update_rows,
    update_system_messages,
    upsert,
)
from tests.repositories.helpers import seed, user_message


async def test_messages_insert_update_and_order(session_factory, org_id) -> None:
    agent_id = next(iter((await seed(session_factory, org_id, 1)).values()))
    batch = [user_message(agent_id, f"hello {i} ünï", ids.new_id(ids.MESSAGE)) for i in range(50)]
    batch[3] = batch[3].model_copy(update={"created_at": datetime(2026, 1, 2, 3, 4, 5)})  # naive
    for _ in range(2):  # idempotent: the second insert adds nothing
        async with session_factory() as session, session.begin():
            with StatementCounter(session.bind) as counter:
                await insert_messages(session, org_id, batch)
            # CREATE TEMP TABLE, COPY, INSERT … SELECT
            assert counter.count == 3
    async with session_factory() as session:
        history = await list_agent_messages(session, org_id, agent_id, limit=500)
        loaded = await load_messages(session, org_id, [b.id for b in batch])
    assert [msg.id for _, msg in history][1:] == [b.id for b in batch]  # caller order kept
    assert loaded[batch[7].id].text() == "hello 7 ünï"
    assert loaded[batch[3].id].created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    async with session_factory() as session:
        agent = (await load_agents(session, org_id, [agent_id]))[agent_id]
    system_id = agent.message_ids[0]
    async with session_factory() as session, session.begin():
        await update_system_messages(session, org_id, {system_id: "recompiled"})
        await set_message_ids(session, org_id, {agent_id: [system_id, batch[0].id]})
    async with session_factory() as session:
        assert (await load_messages(session, org_id, [system_id]))[system_id].text() == "recompiled"
        agent = (await load_agents(session, org_id, [agent_id]))[agent_id]
    assert agent.message_ids == [system_id, batch[0].id]


async def test_insert_update_upsert_delete_rows(session_factory, org_id) -> None:
    orgs = m.organizations
    rows = [{"id": f"{org_id}-{i:04d}", "name": f"n{i}"} for i in range(300)]
    async with session_factory() as session, session.begin():
        await insert_ignore(session, orgs, rows)
        await insert_ignore(session, orgs, rows[:5])
        await update_rows(session, orgs, [{"id": rows[1]["id"], "name": "renamed"}])
        await upsert(
            session,
            orgs,
            [{"id": rows[2]["id"], "name": "upserted"}, {"id": f"{org_id}-new", "name": "new"}],
            conflict_columns=["id"],
        )
        await delete_rows(session, orgs, rows[10:20], key_columns=["id"])
    async with session_factory() as session:
        names = dict(
            (
                await session.execute(
                    select(orgs.c.id, orgs.c.name).where(orgs.c.id.like(f"{org_id}-%"))
                )
            ).all()
        )
    assert len(names) == 300 - 10 + 1
    assert names[rows[1]["id"]] == "renamed" and names[rows[2]["id"]] == "upserted"
    assert rows[15]["id"] not in names and names[rows[25]["id"]] == "n25"


async def test_a_failed_statement_leaves_no_stage_behind(session_factory, org_id) -> None:
    bad = [{"id": "x", "agent_id": "no-such-agent", "organization_id": org_id, "role": "user"}]
    async with session_factory() as session:
        with pytest.raises(Exception, match=r"(?i)foreign key|violates|null value"):
            async with session.begin():
                await insert_ignore(session, m.messages, bad)
        # ON COMMIT DROP: the rolled-back transaction took its temporary table with it
        async with session.begin():
            await insert_ignore(session, m.organizations, [{"id": f"{org_id}-ok", "name": "ok"}])
