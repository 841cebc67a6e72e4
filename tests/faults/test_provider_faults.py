"""Provider faults, end to end: the emulator misbehaves, every job still ends correctly.

Faults are set through the emulator's admin API, each scoped with ``times=`` and cleared in
``finally``. Every job ends in a terminal state with no agent left running, one provider
batch per step (a duplicate would have to be cancelled) and no message stored twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from letta_batch.config import Settings
from letta_batch.db.engine import create_engine
from letta_batch.providers.emulator import EmulatorServer
from letta_batch.services.runtime import ServiceContext
from tests.faults.conftest import (
    JOB_TIMEOUT,
    JobAudit,
    SuiteStats,
    api_log,
    audit_job,
    clear_faults,
    history,
    retried_activities,
    run_job,
    run_with_faults,
    set_faults,
)
from tests.workflows.scenario import (
    clear_scenario,
    definitions,
    load_agents,
    set_scenario,
    suffix,
    tool,
    two_step_rules,
)

slow = pytest.mark.slow


async def _agents(ctx: ServiceContext, extra: int = 0) -> list[str]:
    org = ctx.settings.organization_id
    return list((await load_agents(ctx, org, definitions(suffix(), extra_agents=extra))).values())


def _two_step_scenario(heart: str, child: str, cond: str) -> list[dict[str, Any]]:
    """heart and child take two steps (memory edit / custom tool, then a reply); cond one."""
    return [
        *two_step_rules(heart, child),
        tool(cond, 0, "send_message", message="Calm.", request_heartbeat=False),
    ]


def _assert_two_step_run(audit: JobAudit, heart: str, child: str, cond: str) -> None:
    """The outcome of `_two_step_scenario` without any fault."""
    assert audit.status == "completed", audit
    assert audit.agents == {
        heart: ("completed", "terminal_tool", 2),
        child: ("completed", "terminal_tool", 2),
        cond: ("completed", "terminal_tool", 1),
    }
    assert audit.steps == [0, 1]
    assert audit.provider_batches == 2 and audit.duplicates == 0
    # system, input, call, return, heartbeat, call, return / system, input, call, return
    assert audit.messages == {heart: 7, child: 7, cond: 4}


TRANSIENT = [
    pytest.param("retrieve:529:times=2", id="retrieve-529-twice"),
    pytest.param("create:500:times=1", id="create-500"),
    pytest.param("retrieve:500:times=1", id="retrieve-500"),
    pytest.param("results:500:times=1", id="results-500"),
    pytest.param("results:cut:after=1:times=1", id="results-cut"),
    pytest.param("create:lost:times=1", id="create-lost"),
    pytest.param("create:529:times=2", id="create-529-twice", marks=slow),
    pytest.param("results:cut:after=2:times=2", id="results-cut-twice", marks=slow),
    pytest.param("create:lost:mode=drop:times=1", id="create-lost-dropped", marks=slow),
    pytest.param("create:lost:times=1,list:500:times=1", id="create-lost-list-500", marks=slow),
    pytest.param(
        "create:429:retry-after=1:times=1,retrieve:529:times=1,results:cut:after=1:times=1",
        id="one-of-each",
        marks=slow,
    ),
]


@pytest.mark.parametrize("spec", TRANSIENT)
async def test_transient_fault_is_retried_and_job_completes(
    spec: str,
    temporal_env: WorkflowEnvironment,
    service_ctx: ServiceContext,
    emulator: EmulatorServer,
    suite_stats: SuiteStats,
) -> None:
    heart, child, cond = await _agents(service_ctx)
    _, audit = await run_with_faults(
        temporal_env, service_ctx, emulator, suite_stats, spec,
        _two_step_scenario(heart, child, cond), [heart, child, cond],
    )  # fmt: skip
    # Same result as an unfaulted run; a lost create was reconciled, not paid for twice.
    _assert_two_step_run(audit, heart, child, cond)


async def test_rate_limit_waits_for_retry_after(
    temporal_env: WorkflowEnvironment,
    service_ctx: ServiceContext,
    emulator: EmulatorServer,
    suite_stats: SuiteStats,
) -> None:
    heart, child, cond = await _agents(service_ctx)
    api_log(emulator.base_url, clear=True)
    set_scenario(emulator.base_url, _two_step_scenario(heart, child, cond))
    set_faults(emulator.base_url, "create:429:retry-after=4:times=1")
    try:
        job_id, _ = await run_job(temporal_env, service_ctx, [heart, child, cond])
    finally:
        fired = clear_faults(emulator.base_url)
        clear_scenario(emulator.base_url)
    assert fired[0]["fired"] == 1
    audit = await audit_job(service_ctx, emulator.base_url, job_id, suite_stats)
    _assert_two_step_run(audit, heart, child, cond)
    creates = [r["status"] for r in api_log(emulator.base_url) if r["endpoint"] == "create"]
    assert creates == [429, 200, 200], creates  # step 0 refused once, then both steps accepted

    events = await history(temporal_env, job_id)
    (retry,) = retried_activities(events)["send_batch"]
    started = retry.activity_task_started_event_attributes
    failure = started.last_failure
    assert started.attempt == 2 and "HTTP 429 rate_limit_error" in failure.message
    assert failure.application_failure_info.next_retry_delay.ToTimedelta().total_seconds() == 4
    scheduled = next(e for e in events if e.event_id == started.scheduled_event_id)
    waited = retry.event_time.ToDatetime() - scheduled.event_time.ToDatetime()
    # Retry-After (4 s), not the policy's 2 s initial interval, set the wait.
    assert waited.total_seconds() >= 3.9, waited


async def test_provider_refusing_the_batch_fails_every_agent(
    temporal_env: WorkflowEnvironment,
    service_ctx: ServiceContext,
    emulator: EmulatorServer,
    suite_stats: SuiteStats,
) -> None:
    agents = await _agents(service_ctx)
    _, audit = await run_with_faults(
        temporal_env, service_ctx, emulator, suite_stats,
        "create:400:message=invalid batch:times=1", [], agents,
    )  # fmt: skip
    assert audit.status == "failed"
    assert set(audit.agents.values()) == {("failed", "provider_error", 1)}
    assert all("refused" in (r or "") for r in audit.reasons.values()), audit.reasons
    assert audit.steps == [0] and audit.provider_batches == 0


async def test_errored_expired_and_canceled_items(
    temporal_env: WorkflowEnvironment,
    service_ctx: ServiceContext,
    emulator: EmulatorServer,
    suite_stats: SuiteStats,
) -> None:
    ok, errored, expired, canceled = await _agents(service_ctx, extra=1)
    too_long = "prompt is too long: 250000 tokens > 200000 maximum"
    rules = [
        tool(ok, 0, "send_message", message="hi", request_heartbeat=False),
        {"match": {"agent_id": errored},
         "reply": {"error": {"type": "invalid_request_error", "message": too_long}}},
        {"match": {"agent_id": expired}, "reply": {"expired": True}},
        {"match": {"agent_id": canceled}, "reply": {"canceled": True}},
    ]  # fmt: skip
    # The results stream is also cut once: rows are rewritten idempotently on the retry.
    _, audit = await run_with_faults(
        temporal_env, service_ctx, emulator, suite_stats, "results:cut:after=2:times=1",
        rules, [ok, errored, expired, canceled],
    )  # fmt: skip
    assert audit.status == "completed_with_failures"
    assert audit.agents == {
        ok: ("completed", "terminal_tool", 1),
        errored: ("failed", "provider_error", 1),
        expired: ("failed", "expired", 1),
        # A request the provider canceled counts as cancelled, not failed (persist.py).
        canceled: ("cancelled", "cancelled", 1),
    }
    assert too_long in (audit.reasons[errored] or "")
    assert audit.request_counts == [
        {"processing": 0, "succeeded": 1, "errored": 1, "canceled": 1, "expired": 1}
    ]


async def test_every_request_errored_fails_the_job(
    temporal_env: WorkflowEnvironment,
    service_ctx: ServiceContext,
    emulator: EmulatorServer,
    suite_stats: SuiteStats,
) -> None:
    agents = await _agents(service_ctx)
    _, audit = await run_with_faults(
        temporal_env, service_ctx, emulator, suite_stats,
        "results:errored_fraction=1.0:type=overloaded_error:message=Overloaded:times=1",
        [], agents,
    )  # fmt: skip
    assert audit.status == "failed"
    assert set(audit.agents.values()) == {("failed", "provider_error", 1)}
    assert all("Overloaded" in (r or "") for r in audit.reasons.values()), audit.reasons


# --- whole batch expired: an emulator whose batches never finish on their own -------------


@pytest.fixture(scope="module")
def stuck_emulator() -> Iterator[EmulatorServer]:
    """Batches stay ``in_progress`` (processing takes ~300 years) until the test acts."""
    server = EmulatorServer(host="127.0.0.1", port=0, processing_seconds=1e10)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def stuck_ctx(pg_url: str, stuck_emulator: EmulatorServer) -> AsyncIterator[ServiceContext]:
    settings = Settings(
        database_url=pg_url,
        anthropic_base_url=stuck_emulator.base_url,
        task_queue=f"tq-stuck-{suffix()}",
    )
    ctx = ServiceContext(engine=create_engine(pg_url), settings=settings)
    try:
        yield ctx
    finally:
        await ctx.aclose()


async def _nth_batch(http: httpx.AsyncClient, n: int) -> str:
    """The id of the emulator's ``n``-th batch (1-based), once it exists."""
    async with asyncio.timeout(JOB_TIMEOUT):
        while True:
            data = (await http.get("/_admin/batches", params={"requests": "false"})).json()["data"]
            if len(data) >= n:
                return str(data[n - 1]["id"])
            await asyncio.sleep(0.1)


async def test_whole_batch_expired_by_the_24h_clock(
    temporal_env: WorkflowEnvironment,
    stuck_ctx: ServiceContext,
    stuck_emulator: EmulatorServer,
    suite_stats: SuiteStats,
) -> None:
    agents = await _agents(stuck_ctx)
    base = stuck_emulator.base_url
    before = len(stuck_emulator.batches(requests=False))

    async def expire(job_id: str) -> None:
        async with httpx.AsyncClient(base_url=base) as http:
            await _nth_batch(http, before + 1)
            await asyncio.sleep(1.5)  # let the job poll it in_progress at least once
            response = await http.post("/_admin/clock/advance", json={"seconds": 25 * 3600})
            response.raise_for_status()

    job_id, result = await run_job(temporal_env, stuck_ctx, agents, during=expire)
    audit = await audit_job(stuck_ctx, base, job_id, suite_stats)
    assert result.status == audit.status == "failed"
    assert set(audit.agents.values()) == {("failed", "expired", 1)}
    assert audit.request_counts[0] is not None and audit.request_counts[0]["expired"] == 3


async def test_whole_batch_expired_fails_only_outstanding_agents(
    temporal_env: WorkflowEnvironment,
    stuck_ctx: ServiceContext,
    stuck_emulator: EmulatorServer,
    suite_stats: SuiteStats,
) -> None:
    heart, child, cond = await _agents(stuck_ctx)
    base = stuck_emulator.base_url
    set_scenario(
        base,
        [
            tool(heart, 0, "memory_insert", label="human", new_string="Tea.",
                 request_heartbeat=True),
            tool(cond, 0, "conversation_search", query="x", request_heartbeat=True),
            tool(child, 0, "send_message", message="Done.", request_heartbeat=False),
        ],
    )  # fmt: skip
    before = len(stuck_emulator.batches(requests=False))

    async def end_then_expire(job_id: str) -> None:
        async with httpx.AsyncClient(base_url=base) as http:
            first = await _nth_batch(http, before + 1)
            (await http.post(f"/_admin/batches/{first}/end")).raise_for_status()
            second = await _nth_batch(http, before + 2)
            (await http.post(f"/_admin/batches/{second}/expire")).raise_for_status()

    try:
        job_id, _ = await run_job(temporal_env, stuck_ctx, [heart, child, cond],
                                  during=end_then_expire)  # fmt: skip
    finally:
        clear_scenario(base)
    audit = await audit_job(stuck_ctx, base, job_id, suite_stats)
    assert audit.status == "completed_with_failures"
    assert audit.agents == {
        child: ("completed", "terminal_tool", 1),
        heart: ("failed", "expired", 2),
        cond: ("failed", "expired", 2),
    }
    assert audit.steps == [0, 1] and audit.provider_batches == 2
    assert audit.request_counts[1] is not None and audit.request_counts[1]["expired"] == 2
