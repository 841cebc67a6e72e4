"""Messages: idempotent bulk insert, in-context loading, bulk updates, ordering."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from letta_batch import ids
from letta_batch.db import models as m
from letta_batch.repositories import (
    insert_messages,
    insert_new_messages,
    list_agent_messages,
    load_agents,
    load_in_context_messages,
    load_messages,
    set_message_ids,
    update_system_messages,
)
from letta_batch.schemas import MessageRole, ToolCall, ToolCallFunction, ToolReturn
from tests.repositories.helpers import seed, user_message


async def _count(session, agent_id: str) -> int:
    t = m.messages
    return (
        await session.execute(select(func.count()).where(t.c.agent_id == agent_id))
    ).scalar_one()


async def test_insert_messages_is_idempotent(session_factory, org_id) -> None:
    agent_id = next(iter((await seed(session_factory, org_id, 1)).values()))
    batch = [user_message(agent_id, f"hello {i}", ids.new_id(ids.MESSAGE)) for i in range(5)]
    for _ in range(2):
        async with session_factory() as session, session.begin():
            await insert_messages(session, org_id, batch)
    async with session_factory() as session:
        assert await _count(session, agent_id) == 6  # system + 5
        loaded = await load_messages(session, org_id, [m.id for m in batch])
        history = await list_agent_messages(session, org_id, agent_id)
    assert loaded[batch[2].id].text() == "hello 2"
    assert loaded[batch[2].id].created_at is not None
    # sequence_id follows insertion order (system message first)
    assert [msg.id for _, msg in history][1:] == [m.id for m in batch]
    seqs = [seq for seq, _ in history]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


async def test_new_messages_are_written_like_ignored_ones_and_a_clash_fails(
    session_factory, org_id
) -> None:
    agents = list((await seed(session_factory, org_id, 2)).values())
    # The same messages (but for their ids) through both paths: same rows, same order.
    batches = [
        [user_message(agent, f"hello {i} ünï", ids.new_id(ids.MESSAGE)) for i in range(5)]
        for agent in agents
    ]
    async with session_factory() as session, session.begin():
        await insert_messages(session, org_id, batches[0])
        await insert_new_messages(session, org_id, batches[1])
    async with session_factory() as session:
        ignored, new = [await list_agent_messages(session, org_id, a) for a in agents]
    assert [msg.id for _, msg in new][1:] == [b.id for b in batches[1]]
    assert [m.text() for _, m in new][1:] == [m.text() for _, m in ignored][1:]
    seqs = [seq for seq, _ in new]
    assert seqs == sorted(seqs)
    # One that exists already fails the transaction: nothing of it is written.
    extra = user_message(agents[1], "extra", ids.new_id(ids.MESSAGE))
    with pytest.raises(IntegrityError):
        async with session_factory() as session, session.begin():
            await insert_new_messages(session, org_id, [extra, batches[1][2]])
    async with session_factory() as session:
        assert await _count(session, agents[1]) == 6  # system + 5
        assert await load_messages(session, org_id, [extra.id]) == {}


async def test_round_trip_of_tool_calls_and_returns(session_factory, org_id) -> None:
    agent_id = next(iter((await seed(session_factory, org_id, 1)).values()))
    call = ToolCall(
        id="toolu_1", function=ToolCallFunction(name="send_message", arguments='{"message": "hi"}')
    )
    assistant = user_message(agent_id, "", ids.new_id(ids.MESSAGE)).model_copy(
        update={
            "role": MessageRole.assistant,
            "content": [],
            "tool_calls": [call],
            "step": 2,
            "batch_item_id": "batch_item-x",
            "model": "claude-sonnet-4-5",
        }
    )
    tool = user_message(agent_id, '{"status": "OK"}', ids.new_id(ids.MESSAGE)).model_copy(
        update={
            "role": MessageRole.tool,
            "tool_call_id": "toolu_1",
            "name": "send_message",
            "tool_returns": [
                ToolReturn(tool_call_id="toolu_1", status="success", func_response="None")
            ],
        }
    )
    async with session_factory() as session, session.begin():
        await insert_messages(session, org_id, [assistant, tool])
    async with session_factory() as session:
        got = await load_messages(session, org_id, [assistant.id, tool.id])
        search = (
            await session.execute(
                select(m.messages.c.search_text).where(m.messages.c.id == assistant.id)
            )
        ).scalar_one()
    assert got[assistant.id].tool_calls == [call]
    assert got[assistant.id].batch_item_id == "batch_item-x" and got[assistant.id].step == 2
    assert got[tool.id].tool_returns[0].func_response == "None"
    assert got[assistant.id].tool_returns is None
    assert "hi" in search


async def test_in_context_messages_follow_message_ids_and_autoclear(
    session_factory, org_id
) -> None:
    agent_ids = await seed(session_factory, org_id, 2)
    plain, cleared = agent_ids["agent-00000"], agent_ids["agent-00001"]
    async with session_factory() as session:
        agents = await load_agents(session, org_id, agent_ids.values())
    new = {
        aid: [user_message(aid, f"m{i}", ids.new_id(ids.MESSAGE)) for i in range(3)]
        for aid in agent_ids.values()
    }
    async with session_factory() as session, session.begin():
        await insert_messages(session, org_id, [msg for msgs in new.values() for msg in msgs])
        # reversed order on purpose: context order is message_ids order, not insertion order
        await set_message_ids(
            session,
            org_id,
            {
                aid: agents[aid].message_ids + [msg.id for msg in reversed(new[aid])]
                for aid in agent_ids.values()
            },
        )
    async with session_factory() as session:
        agents = await load_agents(session, org_id, agent_ids.values())
        agents[cleared] = agents[cleared].model_copy(update={"message_buffer_autoclear": True})
        context = await load_in_context_messages(session, org_id, agents.values())
        # During a job (build) autoclear does not apply: every agent sees the whole run.
        whole = await load_in_context_messages(session, org_id, agents.values(), autoclear=False)
    assert [msg.text() for msg in context[plain]][1:] == ["m2", "m1", "m0"]
    assert context[plain][0].role == MessageRole.system
    assert [msg.role for msg in context[cleared]] == [MessageRole.system]
    assert [msg.text() for msg in whole[cleared]][1:] == ["m2", "m1", "m0"]
    assert whole[plain] == context[plain]


async def test_update_system_messages_in_place(session_factory, org_id) -> None:
    agent_ids = await seed(session_factory, org_id, 2)
    async with session_factory() as session:
        agents = await load_agents(session, org_id, agent_ids.values())
    system_ids = {a.message_ids[0]: f"compiled for {a.name}" for a in agents.values()}
    async with session_factory() as session, session.begin():
        await update_system_messages(session, org_id, system_ids)
    async with session_factory() as session:
        got = await load_messages(session, org_id, system_ids)
    assert {mid: msg.text() for mid, msg in got.items()} == system_ids
    assert all(msg.role == MessageRole.system for msg in got.values())


async def test_set_message_ids_ignores_other_organizations(session_factory, org_id) -> None:
    agent_id = next(iter((await seed(session_factory, org_id, 1)).values()))
    async with session_factory() as session, session.begin():
        await set_message_ids(session, "org-someone-else", {agent_id: []})
    async with session_factory() as session:
        agent = (await load_agents(session, org_id, [agent_id]))[agent_id]
    assert len(agent.message_ids) == 1
