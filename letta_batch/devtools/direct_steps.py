"""Drive a submitted job's step phases straight through the services, without Temporal.

For benchmarks that time each phase in isolation (``bench/profile_phases.py``) and tests
that check a phase's behaviour at sizes where a workflow run would only add noise. The
order and arguments are the ones ``workflows.step_phases.StepRunner`` uses; tools here are
the built-in ones only (custom tools need the fan-out workflow).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from letta_batch.contracts import (
    ApplyDecisionsInput,
    BuildRequestsInput,
    JobRef,
    LLMBatchRef,
    PersistStepInput,
    SettleStepInput,
)
from letta_batch.services import build, collect, decide, jobs, persist, poll, send, settle, tools
from letta_batch.services.runtime import ServiceContext

#: Phase names, in order (``poll`` repeats until the provider batch ends).
PHASES = ("build", "send", "poll", "collect", "settle", "decide", "tools", "persist")

#: Wraps each phase call: ``await timed(phase, call)`` must return ``await call()``.
Timer = Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]


async def _untimed(phase: str, call: Callable[[], Awaitable[Any]]) -> Any:
    return await call()


async def run_steps(
    ctx: ServiceContext,
    organization_id: str,
    job_id: str,
    max_steps: int,
    *,
    timed: Timer = _untimed,
    poll_pause: float = 0.05,
    max_polls: int = 6_000,
    three_phase: bool = False,
) -> list[str]:
    """Start the job and run up to ``max_steps`` steps; returns each step's ``llm_batch_id``.

    After collect, ``settle`` (then ``persist`` if custom calls wait), as jobs started since
    the ``settle-step`` patch run; ``three_phase`` runs decide → tools → persist instead."""
    org = organization_id
    await jobs.start_job(ctx, JobRef(job_id=job_id, organization_id=org))
    batch_ids: list[str] = []
    for step in range(max_steps):
        build_arg = BuildRequestsInput(
            job_id=job_id, organization_id=org, step=step, max_steps=max_steps
        )
        built = await timed("build", partial(build.build_requests, ctx, build_arg))
        if built.request_count == 0:
            break
        ref = LLMBatchRef(llm_batch_id=built.llm_batch_id, organization_id=org)
        batch_ids.append(ref.llm_batch_id)
        await timed("send", partial(send.send_batch, ctx, ref))
        for _ in range(max_polls):  # a provider batch is polled, not waited on
            if (await timed("poll", partial(poll.poll_batch, ctx, ref))).ended:
                break
            await asyncio.sleep(poll_pause)
        else:
            raise TimeoutError(f"{ref.llm_batch_id}: provider batch still running")
        await timed("collect", partial(collect.collect_results, ctx, ref))
        persist_arg = PersistStepInput(
            llm_batch_id=ref.llm_batch_id, organization_id=org, max_steps=max_steps
        )
        if not three_phase:
            settle_arg = SettleStepInput(**persist_arg.model_dump(exclude={"after_settle"}))
            settled = await timed("settle", partial(settle.settle_step, ctx, settle_arg))
            if settled.custom_calls:  # never run here: persist writes them as not done
                after = persist_arg.model_copy(update={"after_settle": True})
                await timed("persist", partial(persist.persist_step, ctx, after))
            continue
        decide_arg = ApplyDecisionsInput(**persist_arg.model_dump(exclude={"after_settle"}))
        await timed("decide", partial(decide.apply_decisions, ctx, decide_arg))
        await timed("tools", partial(tools.run_builtin_tools, ctx, ref))
        await timed("persist", partial(persist.persist_step, ctx, persist_arg))
    return batch_ids
