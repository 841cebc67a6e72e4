"""Phase ``send``: exactly one paid provider batch per part of a step.

A step's requests are split by ``build`` into parts that each fit one provider batch; most
steps have one part. ``send_batch`` sends the parts in order. Before each provider call it
records the part's intent; a retry after a crash or a lost response first looks for the
batch an earlier attempt created (same size, created after the intent, not claimed by any
part) and reuses it instead of paying for a second one. Parts already sent are skipped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import LargeBinary, cast, func, select, update

from letta_batch.contracts import LLMBatchRef, SendBatchOutput
from letta_batch.crashpoints import checkpoint
from letta_batch.db.models_batch import LLMBatchItemRow, LLMBatchPartRow
from letta_batch.providers.base import BatchInfo, DeclaredBody
from letta_batch.providers.errors import ProviderError
from letta_batch.repositories.bulk import dialect_name
from letta_batch.repositories.request_bodies import (
    STORED_BODY_COLUMNS,
    octet_length,
    params_bytes,
    whole_bodies,
    with_tool_sets,
)
from letta_batch.schemas import ItemRequestStatus, ItemStepStatus, ProviderBatchStatus
from letta_batch.services.item_chunks import id_chunks, rows_by_id
from letta_batch.services.runtime import ServiceContext
from letta_batch.services.step_parts import (
    first_provider_batch_id,
    load_step,
    step_status,
)

log = structlog.get_logger(__name__)

#: How far before the recorded intent a reused batch may have been created: the provider's
#: clock may be behind the worker's by this much (NTP keeps both within a fraction of it).
#: Kept small on purpose: a batch is recognised only by its size and creation time, so a wide
#: window let another job's same-sized batch, created just before, pass for the lost one
#: (its results then belong to other agents). A provider clock further behind makes the lost
#: batch look older than the intent: it is then paid for twice, never misattributed.
RECONCILE_SKEW = timedelta(seconds=2)
#: Rows fetched per round trip while streaming requests into the create call. Large enough
#: that a 10,000-agent step takes one or two round trips; at most this many request params
#: (a few KB each) are held at once.
STREAM_CHUNK = 10_000


async def send_batch(ctx: ServiceContext, ref: LLMBatchRef) -> SendBatchOutput:
    async with ctx.session_factory() as session:
        step, parts = await load_step(session, ref)
        llm_provider = step.llm_provider
    reused = False
    for part in parts:
        if part.provider_batch_id is None and part.status != ProviderBatchStatus.failed.value:
            reused = await _send_part(ctx, ref, llm_provider, part.part) or reused
        else:
            reused = True
    async with ctx.session_factory.begin() as session:
        step, parts = await load_step(session, ref)
        status = step_status(parts)
        step.provider_batch_id = first_provider_batch_id(parts)
        if step.status in (ProviderBatchStatus.building.value, ProviderBatchStatus.intent.value):
            step.status = status.value
            step.sent_at = step.updated_at = ctx.clock()
        sent = sum(p.request_count for p in parts if p.provider_batch_id)
    return SendBatchOutput(
        provider_batch_id=step.provider_batch_id,
        status=step.status,
        request_count=sent,
        reused=reused,
        parts=len(parts),
    )


async def _send_part(ctx: ServiceContext, ref: LLMBatchRef, llm_provider: str, part: int) -> bool:
    """Send one part unless an earlier attempt did; True when an earlier batch was reused."""
    provider = ctx.provider(llm_provider)
    async with ctx.session_factory.begin() as session:
        row = await _load_part(session, ref, part)
        if row.provider_batch_id or row.status == ProviderBatchStatus.failed.value:
            return True
        if row.intent_at is not None:
            found = await _reconcile(session, provider, row)
            if found is not None:
                _record_sent(row, found, ctx)
                log.warning(
                    "send_batch.reused",
                    llm_batch_id=ref.llm_batch_id,
                    part=part,
                    provider_batch_id=found.id,
                )
                return True
        row.status = ProviderBatchStatus.intent.value
        row.intent_at = ctx.clock()
    # The intent is committed before the provider is called: a crash from here on is
    # reconciled by the next attempt above.
    await checkpoint("send.before_create")
    try:
        declared = await _declared_body(ctx, ref, llm_provider, part)
        info = await provider.create_batch(_stream_requests(ctx, ref, part), declared)
    except ProviderError as err:
        if err.retryable:
            raise
        await _fail_part(ctx, ref, part, f"provider refused the batch: {err}")
        return False
    await checkpoint("send.after_create")  # accepted by the provider, not yet recorded
    async with ctx.session_factory.begin() as session:
        _record_sent(await _load_part(session, ref, part), info, ctx)
    return False


async def _load_part(session: Any, ref: LLMBatchRef, part: int) -> LLMBatchPartRow:
    row = await session.get(LLMBatchPartRow, (ref.llm_batch_id, part))
    assert row is not None, f"{ref.llm_batch_id} has no part {part}"
    return row


def _record_sent(row: LLMBatchPartRow, info: BatchInfo, ctx: ServiceContext) -> None:
    row.provider_batch_id = info.id
    row.status = ProviderBatchStatus.in_progress.value
    row.create_batch_response = info.raw
    row.sent_at = ctx.clock()
    row.updated_at = row.sent_at


async def _reconcile(session: Any, provider: Any, row: LLMBatchPartRow) -> BatchInfo | None:
    """Find the batch an earlier attempt created whose create response was lost.

    Only an unambiguous candidate is reused: exactly one unclaimed batch of this size created
    since the intent, and no other part of ours with an unanswered intent of the same size
    since then (its create may be the one in flight). Otherwise a new batch is created: a
    second paid batch is recoverable, results of someone else's batch are not.
    """
    assert row.intent_at is not None
    since = row.intent_at - RECONCILE_SKEW
    candidates = [
        b
        for b in await provider.list_batches(created_after=since)
        if b.total_requests == row.request_count
    ]
    if not candidates:
        return None
    rivals = await session.scalar(
        select(func.count())
        .select_from(LLMBatchPartRow)
        .where(
            LLMBatchPartRow.status == ProviderBatchStatus.intent.value,
            LLMBatchPartRow.intent_at >= since,
            LLMBatchPartRow.request_count == row.request_count,
            (LLMBatchPartRow.llm_batch_id != row.llm_batch_id) | (LLMBatchPartRow.part != row.part),
        )
    )
    claimed = set(
        (
            await session.scalars(
                select(LLMBatchPartRow.provider_batch_id).where(
                    LLMBatchPartRow.provider_batch_id.in_([b.id for b in candidates])
                )
            )
        ).all()
    )
    free = [b for b in candidates if b.id not in claimed]
    if len(free) != 1 or rivals:
        if free:
            log.warning(
                "send_batch.reconcile_ambiguous",
                llm_batch_id=row.llm_batch_id,
                part=row.part,
                candidates=sorted(b.id for b in free),
                other_intents=rivals,
            )
        return None
    return free[0]


def _pending_in(ref: LLMBatchRef, part: int) -> tuple[Any, ...]:
    """The items a part's create body holds: its requests still waiting to be sent."""
    return (
        LLMBatchItemRow.llm_batch_id == ref.llm_batch_id,
        LLMBatchItemRow.part == part,
        LLMBatchItemRow.step_status == ItemStepStatus.pending.value,
    )


async def _declared_body(
    ctx: ServiceContext, ref: LLMBatchRef, llm_provider: str, part: int
) -> DeclaredBody:
    """The part's request count and exact body size, counted in the database (one statement,
    which reads the stored sizes, not the bodies), so the adapter can check the limits and
    then stream the requests instead of holding the whole body."""
    limits = ctx.batch_limits(llm_provider)
    async with ctx.session_factory() as session:
        dialect = dialect_name(session)
        # Text on PostgreSQL; SQLite's length() counts the bytes of a blob, not of text.
        item_id = LLMBatchItemRow.id
        id_bytes = octet_length(
            item_id if dialect == "postgresql" else cast(item_id, LargeBinary), dialect
        )
        size = id_bytes + params_bytes(dialect)
        count, payload = (
            await session.execute(
                with_tool_sets(select(func.count(), func.coalesce(func.sum(size), 0))).where(
                    *_pending_in(ref, part)
                )
            )
        ).one()
    return DeclaredBody(
        count=count,
        size=limits.body_overhead + count * limits.request_overhead + int(payload),
    )


async def _stream_requests(
    ctx: ServiceContext, ref: LLMBatchRef, part: int
) -> AsyncIterator[tuple[str, bytes]]:
    """Yield the part's ``(custom_id, params JSON)`` in id order, a chunk per round trip.

    The part's ids are read first (``item_chunks.id_chunks``), then the bodies by id: paging
    the bodies by ``id > last`` scanned every item of the step again for each chunk. Each
    body gets its shared ``tools`` array back (``stepping.stored_request``); the arrays are
    read once, when first needed."""
    query = select(*STORED_BODY_COLUMNS).where(*_pending_in(ref, part))
    tool_sets: dict[str, bytes] = {}
    async for ids in id_chunks(ctx, query, STREAM_CHUNK):
        async with ctx.session_factory() as session:
            rows = await rows_by_id(session, query, ids)
            bodies = await whole_bodies(session, rows, tool_sets)
        for item_id, body in bodies:
            yield item_id, body


async def _fail_part(ctx: ServiceContext, ref: LLMBatchRef, part: int, reason: str) -> None:
    """The provider refused this part: its agents fail with the reason, the other parts go on."""
    async with ctx.session_factory.begin() as session:
        row = await _load_part(session, ref, part)
        row.status = ProviderBatchStatus.failed.value
        row.error = reason[:2000]
        row.updated_at = ctx.clock()
        await session.execute(
            update(LLMBatchItemRow)
            .where(
                LLMBatchItemRow.llm_batch_id == ref.llm_batch_id,
                LLMBatchItemRow.part == part,
                LLMBatchItemRow.step_status == ItemStepStatus.pending.value,
                LLMBatchItemRow.request_status == ItemRequestStatus.pending.value,
            )
            .values(request_status=ItemRequestStatus.errored.value, error=reason[:2000])
        )
