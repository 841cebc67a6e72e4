"""Steps larger than one provider batch are sent as several (parts), end to end.

The emulator here takes at most 2 requests per batch, as Anthropic takes at most 100,000:
a 5-agent step must be split into parts of 2, 2 and 1. Each part is sent, polled, collected
and cancelled on its own; a refused part fails only its own agents.
"""

from __future__ import annotations

import asyncio

import pytest
from rich.console import Console
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from letta_batch.cli.render import status_table
from letta_batch.client import LettaBatchClient
from letta_batch.contracts import BuildRequestsInput, JobRef, LLMBatchRef
from letta_batch.db.models_batch import LLMBatchItemRow, LLMBatchPartRow
from letta_batch.providers.base import DeclaredBody
from letta_batch.providers.emulator import EmulatorServer
from letta_batch.services import build, collect, jobs, poll, send, submit
from letta_batch.services.runtime import ServiceContext
from letta_batch.services.step_parts import load_step
from tests.faults.conftest import (
    SuiteStats,
    audit_job,
    run_job,
    run_with_faults,
)
from tests.faults.small_batches import (
    PROVIDER_MAX,
    assert_five_agents_completed,
    five_agent_rules,
    five_agents,
    part_sizes,
    split_context,
)
from tests.workflows.scenario import (
    admin_batches,
    clear_scenario,
    definitions,
    load_agents,
    set_scenario,
    suffix,
)


@pytest.mark.parametrize(
    "faults", [pytest.param("", id="no-fault"), pytest.param("create:lost:times=1", id="lost")]
)
async def test_a_step_over_the_provider_limit_is_sent_as_parts(
    temporal_env: WorkflowEnvironment,
    split_ctx: ServiceContext,
    small_emulator: EmulatorServer,
    suite_stats: SuiteStats,
    faults: str,
) -> None:
    agents = await five_agents(split_ctx)
    job_id, audit = await run_with_faults(
        temporal_env, split_ctx, small_emulator, suite_stats, faults,
        five_agent_rules(*agents), agents,
    )  # fmt: skip
    assert_five_agents_completed(audit, *agents)
    # Step 0: 5 requests in parts of 2, 2, 1; step 1: heart and child, one part.
    assert await part_sizes(split_ctx, job_id) == [[2, 2, 1], [2]]
    assert audit.provider_batches == 4


async def test_without_splitting_the_provider_refuses_the_step(
    temporal_env: WorkflowEnvironment,
    pg_url: str,
    small_emulator: EmulatorServer,
    suite_stats: SuiteStats,
) -> None:
    """What splitting prevents: one 5-request batch is refused and every agent fails."""
    ctx = split_context(pg_url, small_emulator, None)
    try:
        agents = await five_agents(ctx)
        job_id, _ = await run_job(temporal_env, ctx, agents)
        audit = await audit_job(ctx, small_emulator.base_url, job_id, suite_stats)
    finally:
        await ctx.aclose()
    assert audit.status == "failed"
    assert set(audit.agents.values()) == {("failed", "provider_error", 1)}
    assert audit.provider_batches == 0


async def test_a_refused_part_fails_only_its_own_agents(
    temporal_env: WorkflowEnvironment,
    pg_url: str,
    small_emulator: EmulatorServer,
    suite_stats: SuiteStats,
) -> None:
    # Parts of 3 and 2: the provider refuses the first (3 > 2) and accepts the second.
    ctx = split_context(pg_url, small_emulator, PROVIDER_MAX + 1)
    try:
        agents = await five_agents(ctx)
        heart, child, cond, *bulk = agents
        set_scenario(small_emulator.base_url, five_agent_rules(heart, child, cond, *bulk))
        try:
            job_id, result = await run_job(temporal_env, ctx, agents)
        finally:
            clear_scenario(small_emulator.base_url)
        audit = await audit_job(ctx, small_emulator.base_url, job_id, suite_stats)
        sizes = await part_sizes(ctx, job_id)
    finally:
        await ctx.aclose()
    assert sizes == [[3, 2]]
    assert result.status == "completed_with_failures"
    assert audit.agents == {
        **{a: ("failed", "provider_error", 1) for a in (heart, child, cond)},
        **{b: ("completed", "terminal_tool", 1) for b in bulk},
    }
    assert all("refused" in (audit.reasons[a] or "") for a in (heart, child, cond))
    assert audit.provider_batches == 1 and audit.duplicates == 0


async def test_cancel_cancels_every_part_and_collect_reads_them_all(
    temporal_env: WorkflowEnvironment, pg_url: str, stuck_small_emulator: EmulatorServer
) -> None:
    ctx = split_context(pg_url, stuck_small_emulator, PROVIDER_MAX)
    try:
        org = ctx.settings.organization_id
        agents = await five_agents(ctx)
        job = await submit.submit_batch(
            ctx, org, {"requests": [{"agent_id": a, "input": "hi"} for a in agents]}, max_steps=2
        )
        await jobs.start_job(ctx, JobRef(job_id=job.job_id, organization_id=org))
        built = await build.build_requests(
            ctx, BuildRequestsInput(job_id=job.job_id, organization_id=org, step=0, max_steps=2)
        )
        ref = LLMBatchRef(llm_batch_id=built.llm_batch_id, organization_id=org)
        # What send declares to the provider, counted in the database, is to the byte what
        # build planned for each part: the body is streamed, never held, and must match.
        async with ctx.session_factory() as session:
            _, planned = await load_step(session, ref)
        assert [p.request_count for p in planned] == [2, 2, 1]
        for p in planned:
            declared = await send._declared_body(ctx, ref, "anthropic", p.part)
            assert declared == DeclaredBody(count=p.request_count, size=p.request_bytes)
        sent = await send.send_batch(ctx, ref)
        assert (sent.parts, sent.request_count, sent.status) == (3, 5, "in_progress")
        again = await send.send_batch(ctx, ref)  # a retried send pays for nothing new
        assert again.reused and again.provider_batch_id == sent.provider_batch_id
        async with ctx.session_factory() as session:
            ours = set(
                (
                    await session.scalars(
                        select(LLMBatchPartRow.provider_batch_id).where(
                            LLMBatchPartRow.llm_batch_id == ref.llm_batch_id
                        )
                    )
                ).all()
            )
        assert len(ours) == 3
        assert not (await poll.poll_batch(ctx, ref)).ended
        status = await LettaBatchClient(temporal_env.client, ctx).job_status(job.job_id)
        assert status["provider_batch_ids"][0] == sent.provider_batch_id
        assert set(status["provider_batch_ids"]) == ours
        shown = Console(width=300, record=True)
        shown.print(status_table(status, None))
        assert "provider batches  " + ", ".join(status["provider_batch_ids"]) in shown.export_text()

        cancelled = await poll.cancel_provider_batch(ctx, ref)
        assert cancelled.processing_status == "canceling"
        for _ in range(200):
            polled = await poll.poll_batch(ctx, ref)
            if polled.ended:
                break
            await asyncio.sleep(0.05)
        assert polled.ended and polled.canceled == 5, polled
        at_provider = [b for b in admin_batches(stuck_small_emulator.base_url) if b["id"] in ours]
        assert len(at_provider) == 3
        assert sum(b["request_counts"]["canceled"] for b in at_provider) == 5, at_provider
        collected = await collect.collect_results(ctx, ref)
        assert (collected.canceled, collected.missing) == (5, 0)
    finally:
        await ctx.aclose()


async def test_an_agent_too_large_for_any_batch_fails_alone(
    pg_url: str, small_emulator: EmulatorServer
) -> None:
    ctx = split_context(pg_url, small_emulator, None)
    ctx.settings.batch_max_bytes = 30_000
    try:
        org = ctx.settings.organization_id
        data = definitions(suffix(), extra_agents=1)
        data["agents"] = data["agents"][3:]  # one plain agent ...
        big = {**data["agents"][0], "name": f"big-{suffix()}"}
        big["memory_blocks"] = [{"label": "human", "value": "x" * 40_000, "limit": 50_000}]
        data["agents"].append(big)  # ... and one whose request alone exceeds 30,000 bytes
        small_id, big_id = (await load_agents(ctx, org, data)).values()
        job = await submit.submit_batch(
            ctx, org, {"requests": [{"agent_id": a, "input": "hi"} for a in (small_id, big_id)]}
        )
        await jobs.start_job(ctx, JobRef(job_id=job.job_id, organization_id=org))
        built = await build.build_requests(
            ctx, BuildRequestsInput(job_id=job.job_id, organization_id=org, step=0, max_steps=1)
        )
        async with ctx.session_factory() as session:
            items = {
                r.agent_id: r
                for r in await session.scalars(
                    select(LLMBatchItemRow).where(
                        LLMBatchItemRow.llm_batch_id == built.llm_batch_id
                    )
                )
            }
    finally:
        await ctx.aclose()
    assert (built.request_count, built.failed_count) == (1, 1)
    assert items[small_id].step_status == "pending" and items[small_id].request_body
    assert items[big_id].step_status == "failed" and items[big_id].request_body is None
    assert "request_body:" in items[big_id].error and "30,000 bytes" in items[big_id].error
