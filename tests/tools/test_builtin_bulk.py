"""Set-based execution: the statement count does not depend on the number of agents."""

from __future__ import annotations

from sqlalchemy import func, select

from letta_batch.db import StatementCounter
from letta_batch.db import models as m
from letta_batch.tools import BuiltinCall, execute_builtin_calls
from tests.tools.seed import AgentSpec, seed_agents

TOOLS = ("send_message", "core_memory_append", "memory_replace", "archival_memory_insert")


async def run_fleet(engine, session_factory, org_id: str, n: int, tag: str) -> tuple[int, object]:
    specs = [
        AgentSpec(
            name=f"{tag}-{i}",
            blocks={"human": (f"user {i}", 1000, False), "persona": ("helper", 1000, False)},
            tools=TOOLS,
        )
        for i in range(n)
    ]
    async with session_factory() as session, session.begin():
        agents = await seed_agents(session, org_id, specs)
    calls = []
    for i, agent in enumerate(agents.values()):
        kind = i % 4
        item = f"item-{tag}-{i}"
        if kind == 0:
            calls.append(
                BuiltinCall(
                    item_id=item,
                    call_id="toolu_a",
                    agent_id=agent.id,
                    tool_name="core_memory_append",
                    args={"label": "human", "content": "likes tea"},
                )
            )
        elif kind == 1:
            calls.append(
                BuiltinCall(
                    item_id=item,
                    call_id="toolu_a",
                    agent_id=agent.id,
                    tool_name="memory_replace",
                    args={"label": "persona", "old_string": "helper", "new_string": "guide"},
                )
            )
        elif kind == 2:
            calls.append(
                BuiltinCall(
                    item_id=item,
                    call_id="toolu_a",
                    agent_id=agent.id,
                    tool_name="archival_memory_insert",
                    args={"content": f"fact {i}", "tags": ["t"]},
                )
            )
        else:
            calls.append(
                BuiltinCall(
                    item_id=item,
                    call_id="toolu_a",
                    agent_id=agent.id,
                    tool_name="send_message",
                    args={"message": "hello"},
                )
            )
    with StatementCounter(engine) as counter:
        async with session_factory() as session, session.begin():
            out = await execute_builtin_calls(session, org_id, calls)
    assert all(r.status == "success" for r in out.results.values())
    assert len(out.results) == n
    return counter.count, out


async def test_500_agents_take_the_same_statements_as_8(engine, session_factory, org_id):
    small, _ = await run_fleet(engine, session_factory, org_id, 8, "small")
    large, out = await run_fleet(engine, session_factory, org_id, 500, "large")
    assert small == large == 8, (small, large)  # bulk writes: stage, COPY, write
    assert len(out.memory_changed_agents) == 375  # appends, replaces and archival inserts
    async with session_factory() as session:
        passages = await session.scalar(
            select(func.count())
            .select_from(m.passages)
            .where(m.passages.c.organization_id == org_id)
        )
        changed = await session.scalar(
            select(func.count())
            .select_from(m.blocks)
            .where(m.blocks.c.organization_id == org_id, m.blocks.c.version == 2)
        )
    assert passages == 2 + 125
    assert changed == 4 + 250


async def test_replayed_500_agents_take_two_statements(engine, session_factory, org_id):
    _, out = await run_fleet(engine, session_factory, org_id, 500, "replay")
    calls = [
        BuiltinCall(item_id=k[0], call_id=k[1], agent_id="ignored", tool_name="send_message")
        for k in out.results
    ]
    with StatementCounter(engine) as counter:
        async with session_factory() as session, session.begin():
            again = await execute_builtin_calls(session, org_id, calls)
    assert counter.count == 2  # claim (nothing new) + stored results
    assert again.results == out.results
