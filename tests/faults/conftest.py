"""Shared pieces of the fault suites: fixtures, a job runner, a job audit and the summary line.

Every suite (module) gets one summary line at the end of the run: cases run, passed, provider
batches created, messages written and duplicates found (``pytest_terminal_summary``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from letta_batch.client import LettaBatchClient, workflow_id_for
from letta_batch.contracts import BatchJobResult, PollSettings
from letta_batch.db.models_agents import AgentRow, MessageRow
from letta_batch.db.models_batch import (
    BatchJobAgentRow,
    BatchJobRow,
    LLMBatchItemRow,
    LLMBatchJobRow,
    LLMBatchPartRow,
)
from letta_batch.providers.emulator import EmulatorServer
from letta_batch.services.runtime import ServiceContext
from tests.faults.small_batches import PROVIDER_MAX, small_batch_emulator, split_context
from tests.workflows.conftest import emulator, new_worker, service_ctx, temporal_env
from tests.workflows.scenario import admin_batches, clear_scenario, set_scenario

__all__ = ["emulator", "service_ctx", "temporal_env"]  # fixtures shared with tests/workflows

FAST_POLL = PollSettings(initial_seconds=1, factor=1.0, max_seconds=1)
#: Per-job ceiling: generous, the machine may be shared with other test runs.
JOB_TIMEOUT = 180.0
TERMINAL = {"completed", "completed_with_failures", "failed", "cancelled"}


# --- summary line ------------------------------------------------------------------------


@dataclass
class SuiteStats:
    """Figures of one suite, printed as its summary line."""

    title: str
    cases: int = 0
    passed: int = 0
    batches: int = 0
    messages: int = 0
    duplicates: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        extra = "".join(f", {n} {name}" for name, n in self.extra.items())
        return (
            f"[faults] {self.title}: {self.cases} cases run, {self.passed} passed, "
            f"{self.batches} provider batches, {self.messages} messages, "
            f"{self.duplicates} duplicates{extra}"
        )


_STATS: dict[str, SuiteStats] = {}


def _stats_for(module: str) -> SuiteStats:
    name = module.removesuffix(".py").replace("/", ".").rsplit(".", 1)[-1]
    title = name.removeprefix("test_").replace("_", " ")
    return _STATS.setdefault(name, SuiteStats(title))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not report.nodeid.startswith("tests/faults/"):
        return
    if report.when == "call" or (report.when == "setup" and report.failed):
        stats = _stats_for(report.nodeid.split("::", 1)[0])
        stats.cases += 1
        stats.passed += int(report.passed)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for stats in _STATS.values():
        terminalreporter.write_line(stats.line())


@pytest.fixture(scope="module")
def small_emulator() -> Iterator[EmulatorServer]:
    """An emulator that takes at most ``PROVIDER_MAX`` requests per batch."""
    yield from small_batch_emulator(0.0)


@pytest.fixture(scope="module")
def stuck_small_emulator() -> Iterator[EmulatorServer]:
    """The same, with batches that stay ``in_progress`` until cancelled."""
    yield from small_batch_emulator(1e10)


@pytest.fixture
async def split_ctx(pg_url: str, small_emulator: EmulatorServer) -> AsyncIterator[ServiceContext]:
    """Services that split steps into parts of ``PROVIDER_MAX`` requests."""
    ctx = split_context(pg_url, small_emulator, PROVIDER_MAX)
    try:
        yield ctx
    finally:
        await ctx.aclose()


@pytest.fixture
def suite_stats(request: pytest.FixtureRequest) -> SuiteStats:
    """The figures of the requesting test's suite (tests add batches, messages, duplicates)."""
    return _stats_for(request.module.__name__)


# --- running a job -------------------------------------------------------------------------


async def run_job(
    env: WorkflowEnvironment,
    ctx: ServiceContext,
    agent_ids: list[str],
    *,
    max_steps: int = 4,
    during: Callable[[str], Awaitable[Any]] | None = None,
    shards: int | None = None,
    workers: Callable[[Client, ServiceContext], AbstractAsyncContextManager[Any]] = new_worker,
) -> tuple[str, BatchJobResult]:
    """Submit one job, run ``workers`` (``new_worker`` by default) until it ends;
    ``during(job_id)`` runs alongside."""
    client = LettaBatchClient(env.client, ctx)
    job = await client.submit(
        {"requests": [{"agent_id": a, "input": f"Hello {i}"} for i, a in enumerate(agent_ids)]},
        max_steps=max_steps,
        poll=FAST_POLL,
        shards=shards,
    )
    async with workers(env.client, ctx):
        waiter = asyncio.ensure_future(client.wait(job.job_id))
        side = asyncio.ensure_future(during(job.job_id)) if during else None
        try:
            pending = {waiter, *([side] if side else [])}
            deadline = asyncio.get_running_loop().time() + JOB_TIMEOUT
            while waiter in pending:
                left = deadline - asyncio.get_running_loop().time()
                done, pending = await asyncio.wait(
                    pending, timeout=max(left, 0), return_when=asyncio.FIRST_COMPLETED
                )
                if not done:
                    raise TimeoutError(f"job {job.job_id} did not end in {JOB_TIMEOUT} s")
                if side in done and side.exception() is not None:
                    raise AssertionError(f"side task failed: {side.exception()!r}")
        finally:
            for task in (waiter, side):
                if task is not None and not task.done():
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
        return job.job_id, waiter.result()


# --- auditing a finished job ---------------------------------------------------------------


@dataclass
class JobAudit:
    """What a finished job left behind."""

    status: str
    agents: dict[str, tuple[str, str | None, int]]
    """agent id → (status, stop_reason, steps)."""
    reasons: dict[str, str | None]
    steps: list[int]
    """Steps that have a provider-batch row."""
    provider_batches: int
    """Batches created at the provider for this job (duplicates included)."""
    duplicates: int
    messages: dict[str, int]
    """agent id → messages in its history."""
    request_counts: list[dict[str, Any] | None]


async def audit_job(
    ctx: ServiceContext, base_url: str, job_id: str, stats: SuiteStats | None = None
) -> JobAudit:
    """Check the invariants every faulted job must keep and return what it left behind.

    The job is terminal and so is every agent; each step used exactly one provider batch
    (a duplicate is tolerated only if it was cancelled); no message is stored twice.
    """
    async with ctx.session_factory() as session:
        job = await session.get(BatchJobRow, job_id)
        assert job is not None
        rows = (
            await session.scalars(select(BatchJobAgentRow).where(BatchJobAgentRow.job_id == job_id))
        ).all()
        batches = (
            await session.scalars(
                select(LLMBatchJobRow)
                .where(LLMBatchJobRow.letta_batch_job_id == job_id)
                .order_by(LLMBatchJobRow.step)
            )
        ).all()
        part_ids: dict[str, set[str]] = {}
        for llm_batch_id, provider_batch_id in (
            await session.execute(
                select(LLMBatchPartRow.llm_batch_id, LLMBatchPartRow.provider_batch_id).where(
                    LLMBatchPartRow.llm_batch_id.in_([b.id for b in batches]),
                    LLMBatchPartRow.provider_batch_id.is_not(None),
                )
            )
        ).all():
            part_ids.setdefault(llm_batch_id, set()).add(provider_batch_id)
        items: dict[str, set[str]] = {}
        for llm_batch_id, item_id in (
            await session.execute(
                select(LLMBatchItemRow.llm_batch_id, LLMBatchItemRow.id).where(
                    LLMBatchItemRow.letta_batch_job_id == job_id
                )
            )
        ).all():
            items.setdefault(llm_batch_id, set()).add(item_id)
        agent_ids = [r.agent_id for r in rows]
        histories = {a: (await session.get(AgentRow, a)).message_ids for a in agent_ids}  # type: ignore[union-attr]
        stored = dict(
            (
                await session.execute(
                    select(MessageRow.agent_id, func.count())
                    .where(MessageRow.agent_id.in_(agent_ids))
                    .group_by(MessageRow.agent_id)
                )
            ).all()
        )
        tool_returns = (
            await session.execute(
                select(MessageRow.agent_id, MessageRow.tool_call_id).where(
                    MessageRow.agent_id.in_(agent_ids), MessageRow.role == "tool"
                )
            )
        ).all()

    assert job.status in TERMINAL, job.status
    assert job.completed_at is not None
    running = [r.agent_id for r in rows if r.status == "running" or r.stop_reason is None]
    assert not running, f"agents left without a final status: {running}"

    provider = admin_batches(base_url)
    duplicates = created = 0
    for batch in batches:
        ours = [b for b in provider if set(b["custom_ids"]) & items.get(batch.id, set())]
        created += len(ours)
        recorded = part_ids.get(batch.id, set())
        extra = [b for b in ours if b["id"] not in recorded]
        duplicates += len(extra)
        for dup in extra:  # a second paid batch is only acceptable once cancelled
            assert dup["status"] == "canceling" or dup["request_counts"].get("canceled"), dup
        assert recorded <= {b["id"] for b in ours}, recorded
        if batch.provider_batch_id is not None:
            assert batch.provider_batch_id in recorded, batch.provider_batch_id

    for agent, ids in histories.items():
        duplicates += len(ids) - len(set(ids))
        assert len(ids) == len(set(ids)) == stored.get(agent, 0), (agent, ids)
    calls = [(a, c) for a, c in tool_returns if c]
    duplicates += len(calls) - len(set(calls))
    assert len(calls) == len(set(calls)), "a tool result was stored twice"

    if stats is not None:
        stats.batches += created
        stats.messages += sum(len(ids) for ids in histories.values())
        stats.duplicates += duplicates
    return JobAudit(
        status=job.status,
        agents={r.agent_id: (r.status, r.stop_reason, r.steps) for r in rows},
        reasons={r.agent_id: r.reason for r in rows},
        steps=[b.step for b in batches],
        provider_batches=created,
        duplicates=duplicates,
        messages={a: len(ids) for a, ids in histories.items()},
        request_counts=[b.request_counts for b in batches],
    )


# --- workflow history ---------------------------------------------------------------------


async def history(env: WorkflowEnvironment, job_id: str) -> list[HistoryEvent]:
    history = await env.client.get_workflow_handle(workflow_id_for(job_id)).fetch_history()
    return list(history.events)


def retried_activities(events: list[HistoryEvent]) -> dict[str, list[HistoryEvent]]:
    """Activity type → the ActivityTaskStarted events of attempts after the first."""
    names = {
        e.event_id: e.activity_task_scheduled_event_attributes.activity_type.name
        for e in events
        if e.HasField("activity_task_scheduled_event_attributes")
    }
    out: dict[str, list[HistoryEvent]] = {}
    for e in events:
        if e.HasField("activity_task_started_event_attributes"):
            started = e.activity_task_started_event_attributes
            if started.attempt > 1:
                out.setdefault(names[started.scheduled_event_id], []).append(e)
    return out


# --- emulator admin ------------------------------------------------------------------------


def set_faults(base_url: str, spec: str) -> None:
    """Replace the emulator's fault rules (compact spec; scope each rule with ``times=``)."""
    httpx.put(f"{base_url}/_admin/faults", json={"spec": spec}).raise_for_status()


def clear_faults(base_url: str) -> list[dict[str, Any]]:
    """Remove every fault rule; returns the rules as they were (with their ``fired`` counts)."""
    rules: list[dict[str, Any]] = httpx.get(f"{base_url}/_admin/faults").json()["rules"]
    httpx.delete(f"{base_url}/_admin/faults")
    return rules


def api_log(base_url: str, *, clear: bool = False) -> list[dict[str, Any]]:
    """The emulator's API request log (oldest first); ``clear`` empties it instead."""
    response = httpx.request("DELETE" if clear else "GET", f"{base_url}/_admin/requests")
    data: list[dict[str, Any]] = response.raise_for_status().json()["data"]
    return data


# --- a job under provider faults -----------------------------------------------------------

#: Which activity a fault on each provider endpoint makes fail (and retry).
ACTIVITY_OF = {
    "create": "send_batch",
    "list": "send_batch",
    "retrieve": "poll_batch",
    "results": "collect_results",
}


async def run_with_faults(
    env: WorkflowEnvironment,
    ctx: ServiceContext,
    emu: EmulatorServer,
    stats: SuiteStats,
    spec: str,
    rules: list[dict[str, Any]],
    agents: list[str],
    max_steps: int = 4,
    shards: int | None = None,
    workers: Callable[[Client, ServiceContext], AbstractAsyncContextManager[Any]] = new_worker,
) -> tuple[str, JobAudit]:
    """Run a job under the emulator ``spec`` (none when empty) with scripted ``rules``.

    Every fault must have fired all its ``times`` and made its activity retry; the job is
    audited (``audit_job``) and its workflow result must agree with what it left behind.
    """
    set_scenario(emu.base_url, rules)
    if spec:
        set_faults(emu.base_url, spec)
    try:
        job_id, result = await run_job(
            env, ctx, agents, max_steps=max_steps, shards=shards, workers=workers
        )
    finally:
        fired = clear_faults(emu.base_url)
        clear_scenario(emu.base_url)
    assert all(r["times_remaining"] == 0 for r in fired), f"a fault never fired: {fired}"
    audit = await audit_job(ctx, emu.base_url, job_id, stats)
    assert result.status == audit.status
    retried = retried_activities(await history(env, job_id))
    stats.extra["activity retries"] = stats.extra.get("activity retries", 0) + sum(
        len(v) for v in retried.values()
    )
    for rule in fired:
        if rule["endpoint"] in ACTIVITY_OF and rule["kind"] not in ("errored_fraction", "400"):
            assert ACTIVITY_OF[rule["endpoint"]] in retried, (rule, list(retried))
    return job_id, audit
