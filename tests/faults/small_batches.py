"""An emulator that takes at most 2 requests per batch, and the 5-agent job the split-step
and sharded-step tests run on it (as Anthropic takes at most 100,000 requests per batch)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlalchemy import select

from letta_batch.config import Settings
from letta_batch.contracts import BuildRequestsInput, JobRef, Shard
from letta_batch.db.engine import create_engine
from letta_batch.db.models_batch import LLMBatchItemRow, LLMBatchPartRow
from letta_batch.providers.emulator import EmulatorServer
from letta_batch.services import jobs, submit
from letta_batch.services.runtime import ServiceContext
from tests.workflows.scenario import definitions, load_agents, suffix, tool, two_step_rules

if TYPE_CHECKING:  # conftest imports this module
    from tests.faults.conftest import JobAudit

#: Requests one emulated provider batch accepts.
PROVIDER_MAX = 2


def small_batch_emulator(processing_seconds: float) -> Iterator[EmulatorServer]:
    server = EmulatorServer(
        host="127.0.0.1", port=0, processing_seconds=processing_seconds, max_requests=PROVIDER_MAX
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def split_context(pg_url: str, emu: EmulatorServer, max_requests: int | None) -> ServiceContext:
    settings = Settings(
        database_url=pg_url,
        anthropic_base_url=emu.base_url,
        task_queue=f"tq-split-{suffix()}",
        batch_max_requests=max_requests,
    )
    return ServiceContext(engine=create_engine(pg_url), settings=settings)


async def five_agents(ctx: ServiceContext) -> list[str]:
    """heart, child, cond (see `definitions`) and two agents that reply once."""
    org = ctx.settings.organization_id
    return list((await load_agents(ctx, org, definitions(suffix(), extra_agents=2))).values())


async def started_five_agent_job(ctx: ServiceContext, max_steps: int = 2) -> tuple[str, list[str]]:
    """A started job (not yet built) for `five_agents`, each with the input "hi": its id and
    the agents, for tests that call the phases' services directly."""
    org = ctx.settings.organization_id
    agents = await five_agents(ctx)
    job = await submit.submit_batch(
        ctx,
        org,
        {"requests": [{"agent_id": a, "input": "hi"} for a in agents]},
        max_steps=max_steps,
    )
    await jobs.start_job(ctx, JobRef(job_id=job.job_id, organization_id=org))
    return job.job_id, agents


def shard_build(ctx: ServiceContext, job_id: str, index: int, count: int = 2) -> BuildRequestsInput:
    """Step 0's build of shard ``index`` of ``count`` for a job of `started_five_agent_job`."""
    return BuildRequestsInput(
        job_id=job_id,
        organization_id=ctx.settings.organization_id,
        step=0,
        max_steps=2,
        shard=Shard(index=index, count=count),
    )


def five_agent_rules(heart: str, child: str, cond: str, *bulk: str) -> list[dict]:
    """`two_step_rules` for heart and child, one reply each for cond and the bulk agents."""
    return [
        *(tool(b, 0, "send_message", message="Hi.", request_heartbeat=False) for b in bulk),
        *two_step_rules(heart, child),
        tool(cond, 0, "send_message", message="Calm.", request_heartbeat=False),
    ]


def assert_five_agents_completed(
    audit: JobAudit, heart: str, child: str, cond: str, *bulk: str
) -> None:
    """The outcome of `five_agent_rules`, split over parts or shards or not at all."""
    assert audit.status == "completed", audit
    assert audit.agents == {
        heart: ("completed", "terminal_tool", 2),
        child: ("completed", "terminal_tool", 2),
        cond: ("completed", "terminal_tool", 1),
        **{b: ("completed", "terminal_tool", 1) for b in bulk},
    }
    assert {heart: 7, child: 7, cond: 4}.items() <= audit.messages.items()
    assert audit.duplicates == 0
    assert audit.request_counts[0] == {
        "processing": 0, "succeeded": 5, "errored": 0, "canceled": 0, "expired": 0,
    }  # fmt: skip


async def part_sizes(ctx: ServiceContext, job_id: str) -> list[list[int]]:
    """Request count of every part, per step, in part order."""
    async with ctx.session_factory() as session:
        rows = (
            await session.execute(
                select(LLMBatchItemRow.step, LLMBatchItemRow.part, LLMBatchPartRow.request_count)
                .join(
                    LLMBatchPartRow,
                    (LLMBatchPartRow.llm_batch_id == LLMBatchItemRow.llm_batch_id)
                    & (LLMBatchPartRow.part == LLMBatchItemRow.part),
                )
                .where(LLMBatchItemRow.letta_batch_job_id == job_id)
                .distinct()
                .order_by(LLMBatchItemRow.step, LLMBatchItemRow.part)
            )
        ).all()
    steps: dict[int, list[int]] = {}
    for step, _part, count in rows:
        steps.setdefault(step, []).append(count)
    return [steps[s] for s in sorted(steps)]
