"""Built-in calls executed without a claim first (``claim_first=False``, as settle runs them):
the same rows and results, races and calls another path left unfinished (replays:
``test_builtin_executor``, parametrised over both paths)."""

from __future__ import annotations

import asyncio
import functools
import json

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from letta_batch.db import models as m
from letta_batch.db.types import utcnow
from letta_batch.tools import BuiltinCall, BuiltinExecution
from letta_batch.tools.builtin import ledger
from letta_batch.tools.builtin.executor import MemoryWriteConflict
from tests.tools.seed import AgentSpec, block_values
from tests.tools.test_builtin_executor import MEMORY_TOOLS, call, seed
from tests.tools.test_builtin_executor import run as run_calls

#: Columns that depend on the call, not on how it was recorded.
COMPARED = ("tool_name", "status", "attempts", "args", "result", "error")


#: The executor as settle calls it (tests pass ``claim_first=True`` for the other path).
run = functools.partial(run_calls, claim_first=False)


async def rows_of(factory: async_sessionmaker[AsyncSession], agent_id: str) -> list[dict]:
    t = m.tool_executions
    async with factory() as session:
        found = await session.execute(
            select(t.c.tool_call_id, *(t.c[c] for c in COMPARED), t.c.finished_at)
            .where(t.c.agent_id == agent_id)
            .order_by(t.c.tool_call_id)
        )
        return [dict(r) for r in found.mappings()]


def the_calls(agent_id: str) -> list[BuiltinCall]:
    return [
        call(
            agent_id, "core_memory_append", 1, label="human", content="tea", request_heartbeat=True
        ),
        call(agent_id, "core_memory_append", 2, label="nope", content="x"),  # fails in the tool
        call(agent_id, "send_message", 3, message="héllo 👋"),
        call(agent_id, "send_message", 4, nonsense=1),  # fails its schema
    ]


async def test_rows_and_results_match_the_claimed_path(session_factory, org_id):
    spec = {"human": ("Name: Alice", 1000, False)}
    agents = await seed(
        session_factory,
        org_id,
        [AgentSpec(name=n, blocks=spec, tools=MEMORY_TOOLS) for n in ("claimed", "unclaimed")],
    )
    claimed = await run(session_factory, org_id, the_calls(agents["claimed"].id), claim_first=True)
    unclaimed = await run(session_factory, org_id, the_calls(agents["unclaimed"].id))

    def same(agent: str, value: object) -> str:
        """``value`` as JSON with the agent's block id named alike for both agents."""
        return json.dumps(value, default=str, sort_keys=True).replace(
            agents[agent].blocks[0].id, "BLOCK"
        )

    def by_call(agent: str, out: BuiltinExecution) -> str:
        return same(agent, {key[1]: r.model_dump() for key, r in out.results.items()})

    assert by_call("unclaimed", unclaimed) == by_call("claimed", claimed)
    got = await rows_of(session_factory, agents["unclaimed"].id)
    want = await rows_of(session_factory, agents["claimed"].id)
    assert [r["status"] for r in got] == ["succeeded", "failed", "succeeded", "failed"]
    assert same("unclaimed", [{c: r[c] for c in ("tool_call_id", *COMPARED)} for r in got]) == (
        same("claimed", [{c: r[c] for c in ("tool_call_id", *COMPARED)} for r in want])
    )
    assert all(r["finished_at"] is not None for r in got)
    async with session_factory() as session:
        values = await block_values(
            session, [agents["claimed"].blocks[0].id, agents["unclaimed"].blocks[0].id]
        )
    assert set(values.values()) == {"Name: Alice\ntea"}


async def test_a_concurrent_duplicate_fails_and_the_effect_applies_once(session_factory, org_id):
    """Without a claim both attempts run; the second to commit fails (its block write or its
    row), so its effects roll back with it, and its retry replays the winner's results."""
    agents = await seed(
        session_factory,
        org_id,
        [AgentSpec(name="a", blocks={"human": ("x", 1000, False)}, tools=MEMORY_TOOLS)],
    )
    a = agents["a"]
    calls = [call(a.id, "core_memory_append", 1, label="human", content="y")]
    outcomes = await asyncio.gather(
        run(session_factory, org_id, calls),
        run(session_factory, org_id, calls),
        return_exceptions=True,
    )
    won = [o for o in outcomes if isinstance(o, BuiltinExecution)]
    lost = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(won) == 1 and len(lost) == 1
    assert isinstance(lost[0], IntegrityError | MemoryWriteConflict)
    retried = await run(session_factory, org_id, calls)
    assert retried.replayed == {calls[0].key} and retried.results == won[0].results
    async with session_factory() as session:
        assert (await block_values(session, [a.blocks[0].id]))[a.blocks[0].id] == "x\ny"


@pytest.mark.parametrize("status", ["pending", "running"])
async def test_an_unfinished_row_is_claimed_then_finished(session_factory, org_id, status):
    """A row another path left unfinished (``apply_decisions``' pending call, a claim whose
    transaction was not this one) is claimed as before: one more attempt, then finished."""
    agents = await seed(session_factory, org_id, [AgentSpec(name="a", tools=MEMORY_TOOLS)])
    a = agents["a"].id
    waiting, fresh = (
        call(a, "send_message", 1, message="one"),
        call(a, "send_message", 2, message="two"),
    )
    async with session_factory() as session, session.begin():
        await session.execute(
            insert(m.tool_executions).values(
                id=ledger.execution_id(waiting.key),
                organization_id=org_id,
                batch_item_id=waiting.item_id,
                tool_call_id=waiting.call_id,
                agent_id=a,
                tool_name="send_message",
                status=status,
                attempts=1 if status == "running" else 0,
                args=waiting.args,
                created_at=utcnow(),
            )
        )
    out = await run(session_factory, org_id, [fresh, waiting])
    assert out.replayed == set()
    assert {k[1]: r.func_response for k, r in out.results.items()} == {
        "toolu_1": "Sent message successfully.",
        "toolu_2": "Sent message successfully.",
    }
    rows = {r["tool_call_id"]: r for r in await rows_of(session_factory, a)}
    assert rows["toolu_1"]["status"] == rows["toolu_2"]["status"] == "succeeded"
    assert rows["toolu_1"]["attempts"] == (2 if status == "running" else 1)
    assert rows["toolu_2"]["attempts"] == 1
