"""``settle_step``: decide, built-in tools and persist in one transaction per chunk.

A cut anywhere before the commit leaves nothing (no memory edit, no message, no tool row,
items still pending); the retry applies each effect once; running it again changes nothing.
Custom calls are left to the fan-out and persist, as ``apply_decisions`` leaves them.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from letta_batch import crashpoints
from letta_batch.contracts import (
    ApplyDecisionsInput,
    LLMBatchRef,
    PersistStepInput,
    SettleStepInput,
)
from letta_batch.db.models_agents import AgentBlockRow, BlockRow, MessageRow
from letta_batch.db.models_batch import BatchJobAgentRow, LLMBatchItemRow, ToolExecutionRow
from letta_batch.providers.emulator import EmulatorServer
from letta_batch.schemas import Agent, StopReason
from letta_batch.services import (
    build_item,
    decide,
    persist,
    settle,
)
from letta_batch.services.runtime import ServiceContext
from tests.faults.small_batches import five_agent_rules, started_five_agent_job
from tests.services.answered import answered_step, five_agents_answered
from tests.workflows.scenario import clear_scenario, set_scenario


def _errored(agents: list[str]) -> list[dict[str, Any]]:
    return [
        {"match": {"agent_id": a}, "reply": {"error": {"type": "overloaded_error"}}} for a in agents
    ]


async def _state(ctx: ServiceContext, ref: LLMBatchRef, heart: str) -> dict[str, object]:
    async with ctx.session_factory() as session:
        statuses = (
            await session.execute(
                select(LLMBatchItemRow.step_status, func.count())
                .where(LLMBatchItemRow.llm_batch_id == ref.llm_batch_id)
                .group_by(LLMBatchItemRow.step_status)
            )
        ).all()
        step_messages = await session.scalar(
            select(func.count())
            .select_from(MessageRow)
            .join(LLMBatchItemRow, LLMBatchItemRow.id == MessageRow.batch_item_id)
            .where(LLMBatchItemRow.llm_batch_id == ref.llm_batch_id, MessageRow.role != "user")
        )
        executions = (
            await session.execute(
                select(ToolExecutionRow.tool_name, ToolExecutionRow.status)
                .join(LLMBatchItemRow, LLMBatchItemRow.id == ToolExecutionRow.batch_item_id)
                .where(LLMBatchItemRow.llm_batch_id == ref.llm_batch_id)
                .order_by(ToolExecutionRow.tool_name)
            )
        ).all()
        human = await session.scalar(
            select(BlockRow.value)
            .join(AgentBlockRow, AgentBlockRow.block_id == BlockRow.id)
            .where(AgentBlockRow.agent_id == heart, BlockRow.label == "human")
        )
    return {
        "items": dict(statuses),  # type: ignore[arg-type]
        "messages": step_messages,
        "executions": [tuple(e) for e in executions],
        "tea": (human or "").count("Likes tea."),
    }


async def test_a_settle_cut_before_commit_leaves_nothing_and_its_retry_edits_memory_once(
    service_ctx: ServiceContext,
    emulator: EmulatorServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ctx = service_ctx
    org = ctx.settings.organization_id
    ref, (heart, *_) = await five_agents_answered(ctx, emulator)
    arg = SettleStepInput(llm_batch_id=ref.llm_batch_id, organization_id=org, max_steps=2)
    before = await _state(ctx, ref, heart)
    assert before == {"items": {"pending": 5}, "messages": 0, "executions": [], "tea": 0}

    # Cut the activity at the point where memory edit, messages and statuses are written
    # but not committed (a worker killed there loses its transaction the same way).
    monkeypatch.setenv(crashpoints.DIR_ENV, str(tmp_path))
    monkeypatch.setenv(crashpoints.POINTS_ENV, "settle.before_commit")
    cut = asyncio.create_task(settle.settle_step(ctx, arg))
    marker = tmp_path / "settle.before_commit.reached"
    for _ in range(600):
        if marker.exists() or cut.done():
            break
        await asyncio.sleep(0.05)
    assert marker.exists(), cut
    cut.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await cut
    assert await _state(ctx, ref, heart) == before
    monkeypatch.delenv(crashpoints.POINTS_ENV)

    settled = await settle.settle_step(ctx, arg)
    # heart's memory_insert and three send_message calls ran here; child's get_weather
    # (custom) waits for the fan-out.
    assert (settled.settled, settled.builtin_executed, settled.custom_calls) == (4, 4, 1)
    after = await _state(ctx, ref, heart)
    assert after == {
        "items": {"completed": 4, "decided": 1},
        # A call and its return for each of the four (heart's heartbeat is a user message).
        "messages": 2 * 4,
        "executions": [
            ("get_weather", "pending"),
            ("memory_insert", "succeeded"),
            *[("send_message", "succeeded")] * 3,
        ],
        "tea": 1,
    }
    again = await settle.settle_step(ctx, arg)
    assert (again.settled, again.builtin_executed, again.custom_calls) == (0, 0, 1)
    assert await _state(ctx, ref, heart) == after


async def test_an_agent_that_failed_at_build_fails_with_its_reason_in_either_path(
    service_ctx: ServiceContext, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An item with no request (its build failed) has no decision: persist records the
    build's reason for it (it used to stop on the missing decision)."""
    ctx = service_ctx
    org = ctx.settings.organization_id
    outcomes = []
    for three_phase in (False, True):
        job_id, agents = await started_five_agent_job(ctx)
        heart, child, cond, *bulk = agents
        real = build_item.RoundBuilder.row

        def row(
            self: build_item.RoundBuilder,
            agent: Agent,
            *args: Any,
            _cond: str = cond,
            _real: Any = real,
        ) -> dict:
            made = _real(self, agent, *args)
            if agent.id != _cond:
                return made
            made["request_body"] = None  # as a build failure leaves it: nothing to send
            return self._failed(made, StopReason.error, "cond: no request")

        monkeypatch.setattr(build_item.RoundBuilder, "row", row)
        set_scenario(emulator.base_url, five_agent_rules(heart, child, cond, *bulk))
        try:
            ref = await answered_step(ctx, job_id)
        finally:
            clear_scenario(emulator.base_url)
            monkeypatch.undo()
        arg = PersistStepInput(llm_batch_id=ref.llm_batch_id, organization_id=org, max_steps=2)
        if three_phase:
            await persist.persist_step(ctx, arg)
        else:
            await settle.settle_step(ctx, SettleStepInput(**arg.model_dump()))
            after = arg.model_copy(update={"after_settle": True})
            await persist.persist_step(ctx, after)  # after the fan-out (child's custom call)
        async with ctx.session_factory() as session:
            outcomes.append(
                await session.get(BatchJobAgentRow, {"job_id": job_id, "agent_id": cond})
            )
    for agent in outcomes:
        assert agent is not None
        assert (agent.status, agent.stop_reason, agent.reason) == (
            "failed",
            "error",
            "cond: no request",
        )


async def test_persist_after_settle_leaves_the_failed_items_settle_wrote(
    service_ctx: ServiceContext, emulator: EmulatorServer
) -> None:
    """Every provider result errored: settle writes all five agents as failed. A persist
    after settle (the fan-out's) selects none of them; without ``after_settle`` it would
    write each again (harmless, but a second pass over every failed item)."""
    ctx = service_ctx
    org = ctx.settings.organization_id
    ref, _ = await five_agents_answered(ctx, emulator, _errored)
    arg = PersistStepInput(llm_batch_id=ref.llm_batch_id, organization_id=org, max_steps=2)
    settled = await settle.settle_step(ctx, SettleStepInput(**arg.model_dump()))
    assert (settled.settled, settled.failed, settled.custom_calls) == (5, 5, 0)

    async def stamps() -> dict[str, object]:
        async with ctx.session_factory() as session:
            rows = await session.execute(
                select(LLMBatchItemRow.id, LLMBatchItemRow.updated_at).where(
                    LLMBatchItemRow.llm_batch_id == ref.llm_batch_id
                )
            )
            return dict(rows.all())  # type: ignore[arg-type]

    before = await stamps()
    again = await persist.persist_step(ctx, arg.model_copy(update={"after_settle": True}))
    assert again.failed == 5 and await stamps() == before
    await persist.persist_step(ctx, arg)  # the three-phase selection: every failed item
    assert all(stamp != before[item] for item, stamp in (await stamps()).items())


async def test_settle_after_decide_runs_the_waiting_built_in_calls(
    service_ctx: ServiceContext, emulator: EmulatorServer
) -> None:
    """Items already decided by ``apply_decisions`` (a step begun on the three-phase path)
    are not settled again, but their built-in calls still run before persist writes them."""
    ctx = service_ctx
    org = ctx.settings.organization_id
    ref, (heart, *_) = await five_agents_answered(ctx, emulator)
    arg = PersistStepInput(llm_batch_id=ref.llm_batch_id, organization_id=org, max_steps=2)
    decided = await decide.apply_decisions(ctx, ApplyDecisionsInput(**arg.model_dump()))
    assert (decided.builtin_calls, decided.custom_calls) == (4, 1)
    settled = await settle.settle_step(ctx, SettleStepInput(**arg.model_dump()))
    assert (settled.settled, settled.custom_calls) == (0, 1)
    # No fan-out here: persist writes child's pending custom call as not completed.
    await persist.persist_step(ctx, arg.model_copy(update={"after_settle": True}))
    state = await _state(ctx, ref, heart)
    assert state["items"] == {"completed": 5}
    assert state["executions"] == [
        ("get_weather", "pending"),
        ("memory_insert", "succeeded"),
        *[("send_message", "succeeded")] * 3,
    ]
    assert state["tea"] == 1
