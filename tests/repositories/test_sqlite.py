"""The repositories and the loader on SQLite (the embedded default), incl. constant counts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from letta_batch import ids
from letta_batch.db import StatementCounter, create_engine, session_factory
from letta_batch.definitions import load_definitions
from letta_batch.repositories import (
    insert_messages,
    list_agent_messages,
    load_agents,
    load_in_context_messages,
    load_messages,
    set_message_ids,
    update_block_values,
    update_system_messages,
)
from tests.definitions.factories import definitions
from tests.repositories.helpers import seed, user_message

ORG = "org-sqlite"


@pytest.fixture
async def sqlite_engine(sqlite_migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(sqlite_migrated_url)
    yield engine
    await engine.dispose()


async def test_message_and_block_writes(sqlite_engine: AsyncEngine) -> None:
    factory = session_factory(sqlite_engine)
    agent_ids = await seed(factory, ORG, 2)
    async with factory() as session:
        agents = await load_agents(session, ORG, agent_ids.values())
    new = {
        aid: [user_message(aid, f"m{i}", ids.new_id(ids.MESSAGE)) for i in range(3)]
        for aid in agent_ids.values()
    }
    flat = [msg for msgs in new.values() for msg in msgs]
    for _ in range(2):  # idempotent
        async with factory() as session, session.begin():
            await insert_messages(session, ORG, flat)
    async with factory() as session, session.begin():
        await set_message_ids(
            session,
            ORG,
            {aid: [agents[aid].message_ids[0], *(m.id for m in new[aid])] for aid in new},
        )
        await update_system_messages(
            session, ORG, {a.message_ids[0]: f"sys {a.name}" for a in agents.values()}
        )
        persona = next(iter(agents.values())).block("persona")
        result = await update_block_values(session, ORG, {persona.id: ("changed", persona.version)})
    assert result.versions == {persona.id: 2}
    async with factory() as session:
        agents = await load_agents(session, ORG, agent_ids.values())
        context = await load_in_context_messages(session, ORG, agents.values())
        history = await list_agent_messages(session, ORG, next(iter(new)))
        assert len(await load_messages(session, ORG, [m.id for m in flat])) == 6
    for aid, msgs in context.items():
        assert [m.text() for m in msgs] == [f"sys {agents[aid].name}", "m0", "m1", "m2"]
    seqs = [seq for seq, _ in history]
    assert len(history) == 4 and seqs == sorted(seqs) and None not in seqs
    changed = [a.block("persona") for a in agents.values() if a.block("persona").id == persona.id]
    assert changed[0].value == "changed" and changed[0].version == 2


async def test_statement_counts_are_constant_on_sqlite(sqlite_engine: AsyncEngine) -> None:
    factory = session_factory(sqlite_engine)
    counts = []
    for n in (5, 500):
        org = ids.new_id(ids.ORGANIZATION)
        async with factory() as session, session.begin():
            with StatementCounter(sqlite_engine) as load:
                result = await load_definitions(session, org, definitions(n))
        async with factory() as session:
            with StatementCounter(sqlite_engine) as read:
                agents = await load_agents(session, org, result.agent_ids.values())
                await load_in_context_messages(session, org, agents.values())
        assert len(agents) == n
        counts.append((load.count, read.count))
    assert counts[0] == counts[1]
