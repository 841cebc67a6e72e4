"""``collect``: a result is written only into an item of the step being collected."""

from __future__ import annotations

from sqlalchemy import select

from letta_batch.db.models_batch import LLMBatchItemRow
from letta_batch.services import collect
from tests.services.answered import five_agents_answered


async def _items(ctx, llm_batch_id: str) -> dict[str, dict]:
    async with ctx.session_factory() as session:
        rows = await session.execute(
            select(LLMBatchItemRow.id, LLMBatchItemRow.batch_request_result).where(
                LLMBatchItemRow.llm_batch_id == llm_batch_id
            )
        )
        return {item_id: result for item_id, result in rows}


async def test_results_for_other_steps_items_or_unknown_ids_are_left_out(
    service_ctx, emulator
) -> None:
    ref, _ = await five_agents_answered(service_ctx, emulator)
    other, _ = await five_agents_answered(service_ctx, emulator)
    ours, theirs = (
        sorted(await _items(service_ctx, ref.llm_batch_id)),
        await _items(service_ctx, other.llm_batch_id),
    )
    foreign = sorted(theirs)[0]
    marker = {"custom_id": "x", "result": {"type": "errored"}, "marker": True}

    await collect._write(
        service_ctx,
        ref,
        [
            {"id": item_id, "request_status": "errored", "batch_request_result": marker,
             "updated_at": service_ctx.clock()}
            for item_id in (ours[0], foreign, "batch_item-00000000-0000-5000-8000-000000000000")
        ],
    )  # fmt: skip

    after = await _items(service_ctx, ref.llm_batch_id)
    assert after[ours[0]] == marker
    assert all(after[i] != marker for i in ours[1:])
    assert (await _items(service_ctx, other.llm_batch_id)) == theirs
