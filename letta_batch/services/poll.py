"""Phases ``poll`` and ``cancel``: ask the provider about every part still running.

A step has ended when every one of its parts has (or was refused); the counts reported are
the sums over the parts. Cancelling cancels every part the provider still holds.
"""

from __future__ import annotations

import structlog

from letta_batch.contracts import CancelProviderBatchOutput, LLMBatchRef, PollBatchOutput
from letta_batch.crashpoints import checkpoint
from letta_batch.db.models_batch import LLMBatchPartRow
from letta_batch.providers.base import BatchInfo
from letta_batch.providers.errors import ProviderError
from letta_batch.schemas import ProviderBatchStatus
from letta_batch.services.runtime import NonRetryable, ServiceContext
from letta_batch.services.step_parts import (
    FINISHED,
    RUNNING,
    first_provider_batch_id,
    load_step,
    step_status,
    summed_counts,
)

log = structlog.get_logger(__name__)

_PROCESSING_STATUS = {
    ProviderBatchStatus.ended: "ended",
    ProviderBatchStatus.failed: "ended",
    ProviderBatchStatus.canceling: "canceling",
    ProviderBatchStatus.in_progress: "in_progress",
}


async def poll_batch(ctx: ServiceContext, ref: LLMBatchRef) -> PollBatchOutput:
    async with ctx.session_factory() as session:
        step, parts = await load_step(session, ref)
        llm_provider = step.llm_provider
    if step.status not in FINISHED:
        unsent = [p.part for p in parts if p.provider_batch_id is None and p.status not in FINISHED]
        if unsent:
            raise NonRetryable(f"llm_batch_id: {ref.llm_batch_id} parts {unsent} were never sent")
        provider = ctx.provider(llm_provider)
        seen = {
            p.part: await provider.retrieve_batch(p.provider_batch_id)
            for p in parts
            if p.status in RUNNING and p.provider_batch_id
        }
        await checkpoint("poll.after_retrieve")
        async with ctx.session_factory.begin() as session:
            step, parts = await load_step(session, ref)
            for part in parts:
                if part.part in seen and part.status in RUNNING:
                    _record_poll(ctx, part, seen[part.part])
            if step.status not in FINISHED:
                status = step_status(parts)
                step.status = status.value
                step.request_counts = summed_counts(parts)
                step.updated_at = ctx.clock()
                if status is ProviderBatchStatus.ended:
                    step.ended_at = max(
                        (p.ended_at for p in parts if p.ended_at), default=step.updated_at
                    )
    status = step_status(parts)
    counts = summed_counts(parts)
    return PollBatchOutput(
        provider_batch_id=first_provider_batch_id(parts),
        processing_status=_PROCESSING_STATUS[status],
        ended=status in (ProviderBatchStatus.ended, ProviderBatchStatus.failed),
        **counts,
    )


def _record_poll(ctx: ServiceContext, part: LLMBatchPartRow, info: BatchInfo) -> None:
    now = ctx.clock()
    part.latest_polling_response = info.raw
    part.last_polled_at = part.updated_at = now
    part.request_counts = info.request_counts.model_dump()
    if info.processing_status == "ended":
        part.status = ProviderBatchStatus.ended.value
        part.ended_at = info.ended_at or now
    elif info.processing_status == "canceling":
        part.status = ProviderBatchStatus.canceling.value


async def cancel_provider_batch(ctx: ServiceContext, ref: LLMBatchRef) -> CancelProviderBatchOutput:
    async with ctx.session_factory() as session:
        step, parts = await load_step(session, ref)
    statuses: list[str] = []
    for part in parts:
        if part.provider_batch_id is None or part.status in FINISHED:
            continue
        statuses.append(await _cancel_part(ctx, step.llm_provider, part.provider_batch_id))
    processing = None
    if statuses:
        processing = "canceling" if "canceling" in statuses else statuses[0]
    return CancelProviderBatchOutput(
        provider_batch_id=first_provider_batch_id(parts), processing_status=processing
    )


async def _cancel_part(ctx: ServiceContext, llm_provider: str, provider_batch_id: str) -> str:
    try:
        info = await ctx.provider(llm_provider).cancel_batch(provider_batch_id)
    except ProviderError as err:
        if err.retryable:
            raise
        # Typically "already finished processing": nothing left to cancel.
        log.info(
            "cancel_provider_batch.refused", provider_batch_id=provider_batch_id, error=str(err)
        )
        return "ended"
    return info.processing_status
