"""A step of a new job answered by the emulator and collected, for the service tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from letta_batch.contracts import BuildRequestsInput, LLMBatchRef
from letta_batch.providers.emulator import EmulatorServer
from letta_batch.services import build, collect, poll, send
from letta_batch.services.runtime import ServiceContext
from tests.faults.small_batches import five_agent_rules, started_five_agent_job
from tests.workflows.scenario import clear_scenario, set_scenario


async def answered_step(ctx: ServiceContext, job_id: str) -> LLMBatchRef:
    """Build, send, wait for and collect step 0 of ``job_id``."""
    org = ctx.settings.organization_id
    built = await build.build_requests(
        ctx, BuildRequestsInput(job_id=job_id, organization_id=org, step=0, max_steps=2)
    )
    ref = LLMBatchRef(llm_batch_id=built.llm_batch_id, organization_id=org)
    await send.send_batch(ctx, ref)
    for _ in range(600):
        if (await poll.poll_batch(ctx, ref)).ended:
            break
        await asyncio.sleep(0.05)
    await collect.collect_results(ctx, ref)
    return ref


async def five_agents_answered(
    ctx: ServiceContext,
    emulator: EmulatorServer,
    rules: Callable[[list[str]], list[dict[str, Any]]] = lambda agents: five_agent_rules(*agents),
) -> tuple[LLMBatchRef, list[str]]:
    """Step 0 of a new five-agent job, answered by ``rules(agents)`` and collected; the step
    and the agents (heart, child, cond, two bulk)."""
    job_id, agents = await started_five_agent_job(ctx)
    set_scenario(emulator.base_url, rules(agents))
    try:
        return await answered_step(ctx, job_id), agents
    finally:
        clear_scenario(emulator.base_url)
