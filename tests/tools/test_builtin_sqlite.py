"""The same executor on the embedded SQLite backend (dialect-specific SQL paths)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from letta_batch import ids
from letta_batch.db import create_engine, session_factory
from letta_batch.db import models as m
from letta_batch.repositories import insert_messages
from letta_batch.schemas import Message, MessageRole, TextContent
from letta_batch.tools import BuiltinCall, execute_builtin_calls
from tests.tools.seed import AgentSpec, block_values, seed_agents

TOOLS = (
    "core_memory_append",
    "memory_insert",
    "conversation_search",
    "archival_memory_insert",
    "archival_memory_search",
)


@pytest_asyncio.fixture(loop_scope="session")
async def lite(sqlite_migrated_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(sqlite_migrated_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def test_executor_on_sqlite(lite: async_sessionmaker[AsyncSession]) -> None:
    org = ids.new_id(ids.ORGANIZATION)
    async with lite() as session, session.begin():
        agents = await seed_agents(
            session,
            org,
            [
                AgentSpec(name="a", blocks={"human": ("Alice", 1000, False)}, tools=TOOLS),
                AgentSpec(name="b", blocks={"human": ("ro", 1000, True)}, tools=TOOLS),
            ],
        )
        a, b = agents["a"], agents["b"]
        await insert_messages(
            session,
            org,
            [
                Message(
                    id=ids.new_id(ids.MESSAGE),
                    agent_id=a.id,
                    role=MessageRole.user,
                    content=[TextContent(text="I like Green Tea")],
                    created_at=datetime(2024, 1, 1, tzinfo=UTC),
                ),
            ],
        )
    calls = [
        BuiltinCall(
            item_id="i1",
            call_id="c1",
            agent_id=a.id,
            tool_name="core_memory_append",
            args={"label": "human", "content": "likes tea"},
        ),
        BuiltinCall(
            item_id="i1",
            call_id="c2",
            agent_id=a.id,
            tool_name="memory_insert",
            args={"label": "human", "new_string": "first", "insert_line": 0},
            index=1,
        ),
        BuiltinCall(
            item_id="i2",
            call_id="c1",
            agent_id=b.id,
            tool_name="core_memory_append",
            args={"label": "human", "content": "x"},
        ),
        BuiltinCall(
            item_id="i1",
            call_id="c3",
            agent_id=a.id,
            tool_name="archival_memory_insert",
            args={"content": "Project Apollo kickoff", "tags": ["work", "apollo"]},
            index=2,
        ),
    ]
    async with lite() as session, session.begin():
        out = await execute_builtin_calls(session, org, calls)
    assert out.results[("i1", "c2")].func_return == "first\nAlice\nlikes tea"
    assert out.results[("i2", "c1")].status == "error"
    async with lite() as session, session.begin():
        again = await execute_builtin_calls(session, org, calls)
    assert again.results == out.results and again.replayed == {c.key for c in calls}
    async with lite() as session:
        assert (await block_values(session, [a.blocks[0].id]))[a.blocks[0].id] == (
            "first\nAlice\nlikes tea"
        )

    searches = [
        BuiltinCall(
            item_id="i3",
            call_id="s1",
            agent_id=a.id,
            tool_name="conversation_search",
            args={"query": "green TEA"},
        ),
        BuiltinCall(
            item_id="i3",
            call_id="s2",
            agent_id=a.id,
            tool_name="archival_memory_search",
            args={"query": "apollo", "tags": ["work", "apollo"], "tag_match_mode": "all"},
        ),
        BuiltinCall(
            item_id="i3",
            call_id="s3",
            agent_id=a.id,
            tool_name="archival_memory_search",
            args={"query": "apollo", "tags": ["home"]},
        ),
    ]
    async with lite() as session, session.begin():
        found = await execute_builtin_calls(session, org, searches)
    conv = found.results[("i3", "s1")].func_return
    assert conv["message"] == "Showing 1 results:"
    assert conv["results"][0]["content"] == "I like Green Tea"
    assert [r["content"] for r in found.results[("i3", "s2")].func_return] == [
        "Project Apollo kickoff"
    ]
    assert found.results[("i3", "s3")].func_return == []


async def test_unclaimed_calls_on_sqlite(lite: async_sessionmaker[AsyncSession]) -> None:
    """Settle's path (``claim_first=False``): rows inserted once they ran, then replayed."""
    org = ids.new_id(ids.ORGANIZATION)
    async with lite() as session, session.begin():
        agents = await seed_agents(
            session,
            org,
            [AgentSpec(name="a", blocks={"human": ("Alice", 1000, False)}, tools=TOOLS)],
        )
    a = agents["a"]
    item = ids.new_id(ids.BATCH_ITEM)
    calls = [
        BuiltinCall(
            item_id=item,
            call_id="c1",
            agent_id=a.id,
            tool_name="core_memory_append",
            args={"label": "human", "content": "likes tea", "request_heartbeat": True},
        ),
        BuiltinCall(
            item_id=item,
            call_id="c2",
            agent_id=a.id,
            tool_name="archival_memory_insert",
            args={"content": "Project Apollo kickoff", "tags": ["work"]},
            index=1,
        ),
    ]
    async with lite() as session, session.begin():
        out = await execute_builtin_calls(session, org, calls, claim_first=False)
    async with lite() as session, session.begin():
        again = await execute_builtin_calls(session, org, calls, claim_first=False)
    assert out.replayed == set() and again.replayed == {c.key for c in calls}
    assert again.results == out.results
    assert out.results[(item, "c1")].func_return == "Alice\nlikes tea"
    async with lite() as session:
        assert (await block_values(session, [a.blocks[0].id]))[a.blocks[0].id] == (
            "Alice\nlikes tea"
        )
        rows = (
            await session.execute(
                select(
                    m.tool_executions.c.status,
                    m.tool_executions.c.attempts,
                    m.tool_executions.c.args,
                )
                .where(m.tool_executions.c.batch_item_id == item)
                .order_by(m.tool_executions.c.tool_call_id)
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("succeeded", 1, {"label": "human", "content": "likes tea"}),
        ("succeeded", 1, {"content": "Project Apollo kickoff", "tags": ["work"]}),
    ]
