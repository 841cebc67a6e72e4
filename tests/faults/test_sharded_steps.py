"""Steps whose phases are split over several concurrent activities (shards), end to end.

A job started with ``shards=n`` runs build, collect, settle (and persist after custom tools) as n
activities per step, each on its slice of the agents, so n worker processes share a step.
The agents must end exactly as in an unsharded job (same outcomes, same messages), with one
provider batch per part and nothing written twice, also when the provider loses a create
response or a shard's activity runs again.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select
from temporalio import activity
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities import StepActivities
from activities.workers import process_workers
from letta_batch.contracts import BuildRequestsInput, BuildRequestsOutput
from letta_batch.db.models_batch import LLMBatchItemRow, LLMBatchJobRow, LLMBatchPartRow
from letta_batch.providers.emulator import EmulatorServer
from letta_batch.services import build
from letta_batch.services.runtime import ServiceContext
from tests.faults.conftest import (
    SuiteStats,
    history,
    run_with_faults,
)
from tests.faults.small_batches import (
    assert_five_agents_completed,
    five_agent_rules,
    five_agents,
    part_sizes,
    shard_build,
    started_five_agent_job,
)
from workflows.settings import shard_task_queue

#: The phases a step runs once per shard.
SHARDED = ("build_requests", "collect_results", "settle_step")


async def _activities(env: WorkflowEnvironment, job_id: str) -> Counter[str]:
    """Activities the job's workflow scheduled, by name."""
    return Counter(
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in await history(env, job_id)
        if e.HasField("activity_task_scheduled_event_attributes")
    )


@pytest.mark.parametrize(
    ("shards", "sizes"),
    [
        # 5 agents over 2 shards: slices of 2 and 3; shard 0 owns parts 0, 2, …, shard 1
        # parts 1, 3, … (at most 2 requests each). Step 1 has heart and child, one each.
        pytest.param(2, [[2, 2, 1], [1, 1]], id="2-shards"),
        # 3 shards: slices of 1, 2, 2 at step 0; at step 1 shard 0 has nobody.
        pytest.param(3, [[1, 2, 2], [1, 1]], id="3-shards"),
    ],
)
@pytest.mark.parametrize(
    "faults", [pytest.param("", id="no-fault"), pytest.param("create:lost:times=1", id="lost")]
)
async def test_a_sharded_job_ends_as_an_unsharded_one(
    temporal_env: WorkflowEnvironment,
    split_ctx: ServiceContext,
    small_emulator: EmulatorServer,
    suite_stats: SuiteStats,
    shards: int,
    sizes: list[list[int]],
    faults: str,
) -> None:
    agents = await five_agents(split_ctx)
    job_id, audit = await run_with_faults(
        temporal_env, split_ctx, small_emulator, suite_stats, faults,
        five_agent_rules(*agents), agents, shards=shards,
    )  # fmt: skip
    # The same outcomes and messages as test_a_step_over_the_provider_limit_is_sent_as_parts.
    assert_five_agents_completed(audit, *agents)
    assert await part_sizes(split_ctx, job_id) == sizes
    assert audit.provider_batches == sum(len(step) for step in sizes)
    scheduled = await _activities(temporal_env, job_id)
    # Two steps: each sharded phase ran once per shard per step; send once per step.
    assert {name: scheduled[name] for name in SHARDED} == dict.fromkeys(SHARDED, 2 * shards)
    assert scheduled["send_batch"] == 2, scheduled
    # Built-in tools run inside settle; only step 0 has a custom call (child's get_weather),
    # so only step 0 has the fan-out and then persist, per shard.
    assert scheduled["persist_step"] == shards, scheduled
    assert scheduled["apply_decisions"] == scheduled["run_builtin_tools"] == 0, scheduled


async def test_a_shard_built_again_returns_what_it_built_and_writes_nothing(
    split_ctx: ServiceContext,
) -> None:
    ctx = split_ctx
    job_id, _ = await started_five_agent_job(ctx)

    def shard(index: int) -> BuildRequestsInput:
        return shard_build(ctx, job_id, index)

    second = await build.build_requests(ctx, shard(1))  # shards may finish in any order
    first = await build.build_requests(ctx, shard(0))
    again = await build.build_requests(ctx, shard(1))  # a retry after a lost completion
    assert (first.request_count, second.request_count) == (2, 3)
    assert again == second
    async with ctx.session_factory() as session:
        step = await session.get(LLMBatchJobRow, first.llm_batch_id)
        items = (
            await session.execute(
                select(LLMBatchItemRow.part, func.count())
                .where(LLMBatchItemRow.llm_batch_id == first.llm_batch_id)
                .group_by(LLMBatchItemRow.part)
                .order_by(LLMBatchItemRow.part)
            )
        ).all()
        parts = (
            await session.scalars(
                select(LLMBatchPartRow.part)
                .where(LLMBatchPartRow.llm_batch_id == first.llm_batch_id)
                .order_by(LLMBatchPartRow.part)
            )
        ).all()
    assert step is not None and step.request_count == 5
    assert [tuple(r) for r in items] == [(0, 2), (1, 2), (3, 1)]
    assert list(parts) == [0, 1, 3]


class _BarrierActivities(StepActivities):
    """Real activities whose ``build_requests`` waits until every shard of its step started,
    noting which worker ("process") and task queue ran each shard."""

    def __init__(self, ctx: ServiceContext, label: str, seen: _ShardsSeen) -> None:
        super().__init__(ctx)
        self.label = label
        self.seen = seen

    @activity.defn(name="build_requests")
    async def build_requests(self, arg: BuildRequestsInput) -> BuildRequestsOutput:
        self.seen.ran[(arg.step, arg.shard.index)] = (self.label, activity.info().task_queue)
        started = self.seen.started.setdefault(arg.step, asyncio.Event())
        if sum(step == arg.step for step, _ in self.seen.ran) == arg.shard.count:
            started.set()
        # A process with its one shard slot taken cannot start the step's other shard: they
        # meet here only when they run in different processes at the same time.
        await asyncio.wait_for(started.wait(), timeout=30)
        return await super().build_requests(arg)


@dataclass
class _ShardsSeen:
    ran: dict[tuple[int, int], tuple[str, str]] = field(default_factory=dict)
    started: dict[int, asyncio.Event] = field(default_factory=dict)


async def test_a_steps_shards_run_at_once_in_different_processes(
    temporal_env: WorkflowEnvironment,
    split_ctx: ServiceContext,
    small_emulator: EmulatorServer,
    suite_stats: SuiteStats,
) -> None:
    """Each process takes one activity at a time from the shard queue, so two processes run
    a step's two shards at the same time, one each, although each has 20 slots for the rest."""
    seen = _ShardsSeen()

    @asynccontextmanager
    async def two_processes(client: Client, ctx: ServiceContext) -> AsyncIterator[None]:
        # A client of its own per "process": the SDK refuses two workers of one client on
        # the same task queue.
        other = await Client.connect(
            client.service_client.config.target_host,
            namespace=client.namespace,
            data_converter=client.data_converter,
        )
        workers = [
            w
            for label, own in (("A", client), ("B", other))
            for w in process_workers(
                own,
                ctx,
                ctx.settings.task_queue,
                activities=_BarrierActivities(ctx, label, seen),
                max_concurrent_activities=20,
            )
        ]
        async with AsyncExitStack() as stack:
            for w in workers:
                await stack.enter_async_context(w)
            yield

    agents = await five_agents(split_ctx)
    _, audit = await run_with_faults(
        temporal_env, split_ctx, small_emulator, suite_stats, "",
        five_agent_rules(*agents), agents, shards=2, workers=two_processes,
    )  # fmt: skip
    assert_five_agents_completed(audit, *agents)
    shard_queue = shard_task_queue(split_ctx.settings.task_queue)
    for step in (0, 1):
        (first, queue0), (second, queue1) = seen.ran[(step, 0)], seen.ran[(step, 1)]
        assert {first, second} == {"A", "B"}, seen.ran
        assert queue0 == queue1 == shard_queue
