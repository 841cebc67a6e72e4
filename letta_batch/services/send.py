"""Phases ``send`` and ``poll``: exactly one paid provider batch per step.

``send_batch`` records its intent before calling the provider. A retry after a crash or a lost
response first looks for the batch an earlier attempt created (same size, created after the
intent, not claimed by another step) and reuses it instead of paying for a second one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import select, update

from letta_batch.contracts import (
    CancelProviderBatchOutput,
    LLMBatchRef,
    PollBatchOutput,
    SendBatchOutput,
)
from letta_batch.crashpoints import checkpoint
from letta_batch.db.models_batch import LLMBatchItemRow, LLMBatchJobRow
from letta_batch.providers.base import BatchInfo
from letta_batch.providers.errors import ProviderError
from letta_batch.repositories.keyset import next_chunk
from letta_batch.schemas import ItemStepStatus, ProviderBatchStatus
from letta_batch.services.runtime import NonRetryable, ServiceContext

log = structlog.get_logger(__name__)

#: How far before the recorded intent a reused batch may have been created (clock skew).
RECONCILE_SKEW = timedelta(minutes=5)
#: Rows fetched per round trip while streaming requests into the create call. Large enough
#: that a 10,000-agent step takes one or two round trips; at most this many request params
#: (a few KB each) are held at once.
STREAM_CHUNK = 10_000


async def _load(session: Any, ref: LLMBatchRef) -> LLMBatchJobRow:
    row = await session.scalar(
        select(LLMBatchJobRow).where(
            LLMBatchJobRow.id == ref.llm_batch_id,
            LLMBatchJobRow.organization_id == ref.organization_id,
        )
    )
    if row is None:
        raise NonRetryable(f"llm_batch_id: no provider batch row {ref.llm_batch_id!r}")
    return row


async def send_batch(ctx: ServiceContext, ref: LLMBatchRef) -> SendBatchOutput:
    async with ctx.session_factory.begin() as session:
        row = await _load(session, ref)
        if row.provider_batch_id or row.status == ProviderBatchStatus.failed.value:
            return SendBatchOutput(
                provider_batch_id=row.provider_batch_id,
                status=row.status,
                request_count=row.request_count,
                reused=True,
            )
        provider = ctx.provider(row.llm_provider)
        if row.intent_at is not None:
            found = await _reconcile(session, provider, row)
            if found is not None:
                _record_sent(row, found, ctx)
                log.warning("send_batch.reused", llm_batch_id=row.id, provider_batch_id=found.id)
                return SendBatchOutput(
                    provider_batch_id=found.id,
                    status=row.status,
                    request_count=row.request_count,
                    reused=True,
                )
        row.status = ProviderBatchStatus.intent.value
        row.intent_at = ctx.clock()
        request_count = row.request_count
        llm_provider = row.llm_provider
    # The intent is committed before the provider is called: a crash from here on is
    # reconciled by the next attempt above.
    provider = ctx.provider(llm_provider)
    await checkpoint("send.before_create")
    try:
        info = await provider.create_batch(_stream_requests(ctx, ref))
    except ProviderError as err:
        if err.retryable:
            raise
        await _fail_batch(ctx, ref, f"provider refused the batch: {err}")
        return SendBatchOutput(provider_batch_id=None, status="failed", request_count=request_count)
    await checkpoint("send.after_create")  # accepted by the provider, not yet recorded
    async with ctx.session_factory.begin() as session:
        row = await _load(session, ref)
        _record_sent(row, info, ctx)
    return SendBatchOutput(
        provider_batch_id=info.id, status="in_progress", request_count=request_count
    )


def _record_sent(row: LLMBatchJobRow, info: BatchInfo, ctx: ServiceContext) -> None:
    row.provider_batch_id = info.id
    row.status = ProviderBatchStatus.in_progress.value
    row.create_batch_response = info.raw
    row.sent_at = ctx.clock()
    row.updated_at = row.sent_at


async def _reconcile(session: Any, provider: Any, row: LLMBatchJobRow) -> BatchInfo | None:
    """Find the batch an earlier attempt created whose create response was lost."""
    assert row.intent_at is not None
    candidates = [
        b
        for b in await provider.list_batches(created_after=row.intent_at - RECONCILE_SKEW)
        if b.total_requests == row.request_count
    ]
    if not candidates:
        return None
    claimed = set(
        (
            await session.scalars(
                select(LLMBatchJobRow.provider_batch_id).where(
                    LLMBatchJobRow.provider_batch_id.in_([b.id for b in candidates])
                )
            )
        ).all()
    )
    free = sorted((b for b in candidates if b.id not in claimed), key=lambda b: b.created_at)
    return free[0] if free else None


async def _stream_requests(
    ctx: ServiceContext, ref: LLMBatchRef
) -> AsyncIterator[tuple[str, bytes]]:
    """Yield ``(custom_id, params JSON)`` in id order, a chunk of rows per round trip."""
    after = ""
    while True:
        async with ctx.session_factory() as session:
            rows, more = await next_chunk(
                session,
                select(LLMBatchItemRow.id, LLMBatchItemRow.request_body).where(
                    LLMBatchItemRow.llm_batch_id == ref.llm_batch_id,
                    LLMBatchItemRow.step_status == ItemStepStatus.pending.value,
                ),
                LLMBatchItemRow.id,
                after,
                STREAM_CHUNK,
            )
        for item_id, body in rows:
            yield item_id, body
        if not more:
            return
        after = rows[-1][0]


async def _fail_batch(ctx: ServiceContext, ref: LLMBatchRef, reason: str) -> None:
    async with ctx.session_factory.begin() as session:
        await session.execute(
            update(LLMBatchJobRow)
            .where(LLMBatchJobRow.id == ref.llm_batch_id)
            .values(status=ProviderBatchStatus.failed.value, updated_at=ctx.clock())
        )
        await session.execute(
            update(LLMBatchItemRow)
            .where(
                LLMBatchItemRow.llm_batch_id == ref.llm_batch_id,
                LLMBatchItemRow.request_status == "pending",
            )
            .values(request_status="errored", error=reason[:2000])
        )


async def poll_batch(ctx: ServiceContext, ref: LLMBatchRef) -> PollBatchOutput:
    async with ctx.session_factory() as session:
        row = await _load(session, ref)
        if row.status in (
            ProviderBatchStatus.ended.value,
            ProviderBatchStatus.collected.value,
            ProviderBatchStatus.failed.value,
        ):
            counts = row.request_counts or {}
            return PollBatchOutput(
                provider_batch_id=row.provider_batch_id,
                processing_status="ended",
                ended=True,
                **counts,
            )
        provider_batch_id, llm_provider = row.provider_batch_id, row.llm_provider
    if provider_batch_id is None:
        raise NonRetryable(f"llm_batch_id: {ref.llm_batch_id} was never sent")
    info = await ctx.provider(llm_provider).retrieve_batch(provider_batch_id)
    ended = info.processing_status == "ended"
    await checkpoint("poll.after_retrieve")
    now = ctx.clock()
    async with ctx.session_factory.begin() as session:
        values: dict[str, Any] = {
            "latest_polling_response": info.raw,
            "last_polled_at": now,
            "request_counts": info.request_counts.model_dump(),
            "updated_at": now,
        }
        if ended:
            values.update(status=ProviderBatchStatus.ended.value, ended_at=info.ended_at or now)
        elif info.processing_status == "canceling":
            values.update(status=ProviderBatchStatus.canceling.value)
        await session.execute(
            update(LLMBatchJobRow)
            .where(
                LLMBatchJobRow.id == ref.llm_batch_id,
                LLMBatchJobRow.status != ProviderBatchStatus.collected.value,
            )
            .values(**values)
        )
    return PollBatchOutput(
        provider_batch_id=provider_batch_id,
        processing_status=info.processing_status,
        ended=ended,
        **info.request_counts.model_dump(),
    )


async def cancel_provider_batch(ctx: ServiceContext, ref: LLMBatchRef) -> CancelProviderBatchOutput:
    async with ctx.session_factory() as session:
        row = await _load(session, ref)
        provider_batch_id, llm_provider, status = (
            row.provider_batch_id,
            row.llm_provider,
            row.status,
        )
    if provider_batch_id is None or status in (
        ProviderBatchStatus.ended.value,
        ProviderBatchStatus.collected.value,
    ):
        return CancelProviderBatchOutput(
            provider_batch_id=provider_batch_id, processing_status=None
        )
    try:
        info = await ctx.provider(llm_provider).cancel_batch(provider_batch_id)
    except ProviderError as err:
        if err.retryable:
            raise
        # Typically "already finished processing": nothing left to cancel.
        log.info(
            "cancel_provider_batch.refused", provider_batch_id=provider_batch_id, error=str(err)
        )
        return CancelProviderBatchOutput(
            provider_batch_id=provider_batch_id, processing_status="ended"
        )
    return CancelProviderBatchOutput(
        provider_batch_id=provider_batch_id, processing_status=info.processing_status
    )
