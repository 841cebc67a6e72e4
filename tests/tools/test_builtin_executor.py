"""Built-in tools executed in bulk against PostgreSQL: effects, errors, order, exactly-once."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from letta_batch.db import models as m
from letta_batch.tools import BuiltinCall, BuiltinExecution, execute_builtin_calls
from tests.tools.seed import AgentSpec, block_values, seed_agents

MEMORY_TOOLS = (
    "core_memory_append",
    "core_memory_replace",
    "memory_replace",
    "memory_insert",
    "memory_rethink",
    "memory_finish_edits",
    "rethink_memory",
    "send_message",
)


async def run(
    factory: async_sessionmaker[AsyncSession],
    org_id: str,
    calls: Sequence[BuiltinCall],
    *,
    claim_first: bool = True,
) -> BuiltinExecution:
    async with factory() as session, session.begin():
        return await execute_builtin_calls(session, org_id, calls, claim_first=claim_first)


def call(agent_id: str, tool: str, n: int = 1, **args: object) -> BuiltinCall:
    return BuiltinCall(
        item_id=f"item-{agent_id}-{n}",
        call_id=f"toolu_{n}",
        agent_id=agent_id,
        tool_name=tool,
        args=args,
    )


async def seed(factory, org_id, specs):
    async with factory() as session, session.begin():
        return await seed_agents(session, org_id, specs)


async def test_each_memory_tool_persists_and_returns_letta_values(session_factory, org_id):
    agents = await seed(
        session_factory,
        org_id,
        [AgentSpec(name="a", blocks={"human": ("Name: Alice", 1000, False)}, tools=MEMORY_TOOLS)],
    )
    agent = agents["a"]
    block_id = agent.blocks[0].id
    steps = [
        (
            "core_memory_append",
            {"label": "human", "content": "Likes: tea"},
            "Name: Alice\nLikes: tea",
        ),
        (
            "core_memory_replace",
            {"label": "human", "old_content": "tea", "new_content": "coffee"},
            "Name: Alice\nLikes: coffee",
        ),
        (
            "memory_replace",
            {"label": "human", "old_string": "Alice", "new_string": "Bob"},
            "Name: Bob\nLikes: coffee",
        ),
        (
            "memory_insert",
            {"label": "human", "new_string": "Age: 40", "insert_line": 1},
            "Name: Bob\nAge: 40\nLikes: coffee",
        ),
        ("memory_rethink", {"label": "human", "new_memory": "Bob, 40, coffee"}, "Bob, 40, coffee"),
        ("rethink_memory", {"new_memory": "banana", "target_block_label": "human"}, None),
        ("memory_finish_edits", {}, None),
        (
            "send_message",
            {"message": "hi", "request_heartbeat": True},
            "Sent message successfully.",
        ),
    ]
    for n, (tool, args, expected) in enumerate(steps):
        c = call(agent.id, tool, n, **args)
        out = await run(session_factory, org_id, [c])
        result = out.results[c.key]
        assert result.status == "success", (tool, result)
        assert result.func_return == expected
        assert result.func_response == ("None" if expected is None else expected)
        assert (agent.id in out.memory_changed_agents) == (
            tool in (*MEMORY_TOOLS[:5], "rethink_memory")
        )
    async with session_factory() as session:
        assert (await block_values(session, [block_id]))[block_id] == "banana"
        version = await session.scalar(select(m.blocks.c.version).where(m.blocks.c.id == block_id))
        assert version == 1 + 6


async def test_errors_are_per_call_with_letta_texts(session_factory, org_id):
    agents = await seed(
        session_factory,
        org_id,
        [
            AgentSpec(
                name="a",
                blocks={"human": ("abc", 10, False), "rules": ("fixed", 100, True)},
                tools=MEMORY_TOOLS,
            ),
            AgentSpec(name="b", blocks={"human": ("x", 100, False)}, tools=("send_message",)),
        ],
    )
    a, b = agents["a"].id, agents["b"].id
    calls = [
        call(a, "core_memory_append", 1, label="rules", content="x"),
        call(a, "core_memory_append", 2, label="human", content="0123456789"),
        call(a, "core_memory_replace", 3, label="human", old_content="zzz", new_content="y"),
        call(a, "core_memory_append", 4, label="nope", content="x"),
        call(a, "web_search", 5, query="x"),
        call(b, "core_memory_append", 6, label="human", content="x"),
        call(a, "memory_insert", 7, label="human", new_string="x", insert_line="one"),
        call(a, "core_memory_append", 8, label="human", content="ok"),
    ]
    out = await run(session_factory, org_id, calls)
    texts = [out.results[c.key].func_response for c in calls]
    statuses = [out.results[c.key].status for c in calls]
    assert statuses == ["error"] * 7 + ["success"]
    assert texts[0] == "Error This block is read-only and cannot be edited."
    assert out.results[calls[0].key].stderr == [
        "Error executing function core_memory_append: ValueError: Error This block is read-only "
        "and cannot be edited."
    ]
    assert texts[1] == "Edit failed: Exceeds 10 character limit (requested 14)"
    assert texts[2] == "Old content 'zzz' not found in memory block 'human'"
    assert texts[3] == "'Block field nope does not exist (available sections = human, rules)'"
    assert texts[4] == "Tool not found: web_search"
    assert texts[5] == f"Tool not found: core_memory_append is not attached to agent {b}"
    assert texts[6].startswith("Invalid arguments for tool memory_insert: Argument 'insert_line'")
    assert texts[7] == "abc\nok"
    async with session_factory() as session:
        rows = (
            await session.execute(
                select(
                    m.tool_executions.c.tool_call_id,
                    m.tool_executions.c.status,
                    m.tool_executions.c.error,
                ).where(m.tool_executions.c.organization_id == org_id)
            )
        ).all()
    by_call = {r[0]: r for r in rows}
    assert by_call["toolu_1"][1] == "failed"
    assert by_call["toolu_1"][2] == "Error This block is read-only and cannot be edited."
    assert by_call["toolu_8"][1] == "succeeded"


async def test_shared_block_edits_apply_in_order_and_none_is_lost(session_factory, org_id):
    seeded = await seed(
        session_factory,
        org_id,
        [
            AgentSpec(
                name="owner",
                id="agent-0",
                blocks={"team": ("base", 1000, False)},
                tools=MEMORY_TOOLS,
            )
        ],
    )
    team_id = seeded["owner"].blocks[0].id
    await seed(
        session_factory,
        org_id,
        [
            AgentSpec(name="b", id="agent-2", shared=[team_id], tools=MEMORY_TOOLS),
            AgentSpec(name="a", id="agent-1", shared=[team_id], tools=MEMORY_TOOLS),
        ],
    )
    calls = [  # given out of order on purpose
        call("agent-2", "core_memory_append", 1, label="team", content="from 2"),
        call(
            "agent-0", "core_memory_replace", 1, label="team", old_content="base", new_content="B"
        ),
        call("agent-1", "core_memory_append", 1, label="team", content="from 1"),
    ]
    out = await run(session_factory, org_id, calls)
    assert out.results[calls[1].key].func_return == "B"
    assert out.results[calls[2].key].func_return == "B\nfrom 1"
    assert out.results[calls[0].key].func_return == "B\nfrom 1\nfrom 2"
    assert out.memory_changed_agents == {"agent-0", "agent-1", "agent-2"}
    async with session_factory() as session:
        assert (await block_values(session, [team_id]))[team_id] == "B\nfrom 1\nfrom 2"
        version = await session.scalar(select(m.blocks.c.version).where(m.blocks.c.id == team_id))
        assert version == 2  # one combined write


@pytest.mark.parametrize("claim_first", [True, False], ids=["claimed", "settle"])
async def test_re_execution_applies_once_and_returns_stored_results(
    session_factory, org_id, claim_first
):
    agents = await seed(
        session_factory,
        org_id,
        [AgentSpec(name="a", blocks={"human": ("x", 1000, False)}, tools=MEMORY_TOOLS)],
    )
    a = agents["a"]
    calls = [
        call(a.id, "core_memory_append", 1, label="human", content="once"),
        call(a.id, "send_message", 2, message="hi"),
    ]
    first = await run(session_factory, org_id, calls, claim_first=claim_first)
    second = await run(session_factory, org_id, calls, claim_first=claim_first)
    assert first.replayed == set() and second.replayed == {c.key for c in calls}
    assert second.results == first.results
    assert second.memory_changed_agents == {a.id}
    async with session_factory() as session:
        assert (await block_values(session, [a.blocks[0].id]))[a.blocks[0].id] == "x\nonce"
        attempts = await session.scalar(
            select(m.tool_executions.c.attempts).where(
                m.tool_executions.c.batch_item_id == calls[0].item_id
            )
        )
        assert attempts == 1


async def test_rolled_back_execution_leaves_nothing_and_reruns_cleanly(session_factory, org_id):
    agents = await seed(
        session_factory,
        org_id,
        [AgentSpec(name="a", blocks={"human": ("x", 1000, False)}, tools=MEMORY_TOOLS)],
    )
    a = agents["a"]
    calls = [call(a.id, "core_memory_append", 1, label="human", content="y")]
    with pytest.raises(RuntimeError, match="crash after execution"):
        async with session_factory() as session, session.begin():
            await execute_builtin_calls(session, org_id, calls)
            raise RuntimeError("crash after execution")
    out = await run(session_factory, org_id, calls)
    assert out.replayed == set()
    async with session_factory() as session:
        assert (await block_values(session, [a.blocks[0].id]))[a.blocks[0].id] == "x\ny"


async def test_concurrent_duplicate_execution_applies_once(session_factory, org_id):
    agents = await seed(
        session_factory,
        org_id,
        [AgentSpec(name="a", blocks={"human": ("x", 1000, False)}, tools=MEMORY_TOOLS)],
    )
    a = agents["a"]
    calls = [call(a.id, "core_memory_append", 1, label="human", content="y")]
    one, two = await asyncio.gather(
        run(session_factory, org_id, calls), run(session_factory, org_id, calls)
    )
    assert len(one.replayed) + len(two.replayed) == 1
    assert one.results == two.results
    async with session_factory() as session:
        assert (await block_values(session, [a.blocks[0].id]))[a.blocks[0].id] == "x\ny"


async def test_output_is_capped_at_the_tools_return_char_limit(session_factory, org_id):
    agents = await seed(
        session_factory,
        org_id,
        [AgentSpec(name="a", blocks={"human": ("x" * 60_000, 100_000, False)}, tools=MEMORY_TOOLS)],
    )
    c = call(agents["a"].id, "core_memory_append", 1, label="human", content="y")
    result = (await run(session_factory, org_id, [c])).results[c.key]
    assert len(result.func_return) == 60_002
    assert result.func_response.endswith(
        "... [NOTE: function output was truncated since it exceeded the character limit: "
        "60002 > 50000]"
    )


async def test_hostile_arguments_fail_one_call_not_the_set(session_factory, org_id):
    agents = await seed(
        session_factory,
        org_id,
        [
            AgentSpec(
                name="a",
                blocks={"human": ("x", 1000, False)},
                tools=(*MEMORY_TOOLS, "conversation_search"),
            )
        ],
    )
    a = agents["a"].id
    calls = [
        call(a, "core_memory_append", 1, label="human", content="nul\x00byte"),
        call(a, "conversation_search", 2, query="x\x00", limit=-3),
        call(a, "send_message", 3, message="still fine"),
    ]
    out = await run(session_factory, org_id, calls)
    assert out.results[calls[0].key].func_return == "x\nnulbyte"
    assert out.results[calls[1].key].func_return == {"message": "No results found.", "results": []}
    assert out.results[calls[2].key].func_response == "Sent message successfully."


async def test_arguments_are_recorded_as_sent(session_factory, org_id):
    """The ledger's JSON payload keeps non-ASCII text and nesting exactly."""
    agents = await seed(session_factory, org_id, [AgentSpec(name="a", tools=MEMORY_TOOLS)])
    sent = call(agents["a"].id, "send_message", 1, message='héllo 👋 数据 "q" \\ \n end')
    await run(session_factory, org_id, [sent])
    async with session_factory() as session:
        stored = await session.scalar(
            select(m.tool_executions.c.args).where(
                m.tool_executions.c.batch_item_id == sent.item_id
            )
        )
    assert stored == sent.args
