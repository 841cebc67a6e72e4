"""Phase ``collect``: stream the provider's results into the item rows, part by part.

Results are read as a stream and written in chunks by primary key, so a 100,000-result batch
is never held in memory. Re-running after a cut stream rewrites the same values.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from letta_batch.contracts import CollectResultsOutput, LLMBatchRef
from letta_batch.crashpoints import checkpoint
from letta_batch.db.models_batch import LLMBatchItemRow, LLMBatchJobRow, LLMBatchPartRow
from letta_batch.repositories.bulk import dialect_name, in_values, update_rows
from letta_batch.schemas import ItemRequestStatus, ProviderBatchStatus
from letta_batch.services.runtime import NonRetryable, ServiceContext
from letta_batch.services.shards import chunk_size, items_of, owns_part
from letta_batch.services.step_parts import load_step

#: Result rows written per round trip (one JSON-recordset UPDATE each). Large so that the
#: statements per step stay flat up to this many agents; results are held in memory only
#: one chunk at a time.
WRITE_CHUNK = 10_000

#: Part statuses with nothing left to collect.
_DONE = frozenset({ProviderBatchStatus.collected.value, ProviderBatchStatus.failed.value})
_RESULT_STATUS = {
    "succeeded": ItemRequestStatus.succeeded,
    "errored": ItemRequestStatus.errored,
    "expired": ItemRequestStatus.expired,
    "canceled": ItemRequestStatus.canceled,
}


async def collect_results(ctx: ServiceContext, ref: LLMBatchRef) -> CollectResultsOutput:
    """Collect the results of the shard's parts (every part with a single shard)."""
    async with ctx.session_factory() as session:
        step, parts = await load_step(session, ref)
    if step.status not in (ProviderBatchStatus.collected.value, ProviderBatchStatus.failed.value):
        for part in parts:
            if not owns_part(ref.shard, part.part) or part.status in _DONE:
                continue
            if part.provider_batch_id is None:
                raise NonRetryable(
                    f"llm_batch_id: {ref.llm_batch_id} part {part.part} was never sent"
                )
            await _stream_into_items(ctx, ref, step.llm_provider, part.provider_batch_id)
            await checkpoint("collect.after_stream")
            async with ctx.session_factory.begin() as session:
                await session.execute(
                    update(LLMBatchPartRow)
                    .where(
                        LLMBatchPartRow.llm_batch_id == ref.llm_batch_id,
                        LLMBatchPartRow.part == part.part,
                    )
                    .values(status=ProviderBatchStatus.collected.value, updated_at=ctx.clock())
                )
    missing = await _finish(ctx, ref)
    return await _counts(ctx, ref, missing)


async def _stream_into_items(
    ctx: ServiceContext, ref: LLMBatchRef, llm_provider: str, provider_batch_id: str
) -> None:
    chunk: list[dict[str, Any]] = []
    prefix = "batch_item-"
    async for result in ctx.provider(llm_provider).results(provider_batch_id):
        custom_id = str(result.get("custom_id", ""))
        if not custom_id.startswith(prefix):
            continue  # not one of ours (defensive: custom_id is always our item id)
        kind = (result.get("result") or {}).get("type", "errored")
        chunk.append(
            {
                "id": custom_id,
                "request_status": _RESULT_STATUS.get(kind, ItemRequestStatus.errored).value,
                "batch_request_result": result,
                "updated_at": ctx.clock(),
            }
        )
        if len(chunk) >= chunk_size(WRITE_CHUNK, ref.shard):
            await _write(ctx, ref, chunk)
            chunk = []
    if chunk:
        await _write(ctx, ref, chunk)


async def _write(ctx: ServiceContext, ref: LLMBatchRef, rows: list[dict[str, Any]]) -> None:
    async with ctx.session_factory.begin() as session:
        # Found by id alone (the primary key), the step checked here: with the step in the
        # query too, PostgreSQL read every item of the step through its (llm_batch_id,
        # agent_id) index for each chunk, N² / chunk over a step.
        found = await session.execute(
            select(LLMBatchItemRow.id, LLMBatchItemRow.llm_batch_id).where(
                in_values(
                    LLMBatchItemRow.__table__.c.id,
                    [r["id"] for r in rows],
                    dialect_name(session),
                )
            )
        )
        known = {item_id for item_id, step in found if step == ref.llm_batch_id}
        rows = [r for r in rows if r["id"] in known]
        if rows:
            await update_rows(session, LLMBatchItemRow.__table__, rows)


async def _finish(ctx: ServiceContext, ref: LLMBatchRef) -> int:
    """The shard's items the provider returned nothing for fail as errored; the step becomes
    collected once every part is (each shard commits its parts before it looks, so the last
    shard to look sees them all)."""
    async with ctx.session_factory.begin() as session:
        result = await session.execute(
            update(LLMBatchItemRow)
            .where(
                LLMBatchItemRow.llm_batch_id == ref.llm_batch_id,
                items_of(ref.shard),
                LLMBatchItemRow.request_status == ItemRequestStatus.pending.value,
                LLMBatchItemRow.request_body.is_not(None),
            )
            .values(
                request_status=ItemRequestStatus.errored.value,
                error="no result for this request in the provider's results",
            )
        )
        _, parts = await load_step(session, ref)
        if all(p.status in _DONE for p in parts):
            await session.execute(
                update(LLMBatchJobRow)
                .where(LLMBatchJobRow.id == ref.llm_batch_id)
                .values(status=ProviderBatchStatus.collected.value, updated_at=ctx.clock())
            )
        return int(getattr(result, "rowcount", 0) or 0)


async def _counts(ctx: ServiceContext, ref: LLMBatchRef, missing: int) -> CollectResultsOutput:
    async with ctx.session_factory() as session:
        rows = (
            await session.execute(
                select(LLMBatchItemRow.request_status, func.count())
                .where(LLMBatchItemRow.llm_batch_id == ref.llm_batch_id, items_of(ref.shard))
                .group_by(LLMBatchItemRow.request_status)
            )
        ).all()
    counts = {s: n for s, n in rows}
    return CollectResultsOutput(
        succeeded=counts.get("succeeded", 0),
        errored=counts.get("errored", 0),
        canceled=counts.get("canceled", 0),
        expired=counts.get("expired", 0),
        missing=missing,
    )
