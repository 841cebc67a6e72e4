"""``for_each_chunk``: every selected item once, in id order, across id pages and chunks;
an item finished by another attempt after its page was read is not handed out again."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch.contracts import Shard
from letta_batch.db.models_batch import LLMBatchItemRow
from letta_batch.schemas import ItemStepStatus
from letta_batch.services import decide, item_chunks
from letta_batch.services.item_chunks import for_each_chunk
from tests.services.answered import five_agents_answered

COLUMNS = (LLMBatchItemRow.id, LLMBatchItemRow.agent_id)


@pytest.mark.parametrize(("id_page", "chunk"), [(100_000, 10_000), (3, 2), (2, 3), (1, 1)])
async def test_each_item_once_in_id_order_across_pages_and_chunks(
    service_ctx, emulator, monkeypatch, id_page: int, chunk: int
) -> None:
    ref, _ = await five_agents_answered(service_ctx, emulator)
    monkeypatch.setattr(item_chunks, "ID_PAGE", id_page)
    seen: list[list[str]] = []

    async def work(session: AsyncSession, rows: Sequence[Any]) -> None:
        seen.append([r.id for r in rows])

    query = decide.pending_items(ref.llm_batch_id, Shard(), COLUMNS)
    await for_each_chunk(service_ctx, query, chunk, work, after_commit="settle.after_commit")

    handed = [item for rows in seen for item in rows]
    assert len(handed) == 5 and handed == sorted(handed)
    assert all(len(rows) <= chunk for rows in seen)


async def test_an_item_another_attempt_finished_is_skipped(
    service_ctx, emulator, monkeypatch
) -> None:
    """The ids are read a page at a time, but each chunk is read again with the phase's
    filter, so an item finished in between (by a concurrent attempt) is not redone."""
    ref, _ = await five_agents_answered(service_ctx, emulator)
    seen: list[str] = []

    async def work(session: AsyncSession, rows: Sequence[Any]) -> None:
        if not seen:  # first chunk: "another attempt" finishes the last item meanwhile
            async with service_ctx.session_factory.begin() as other:
                last = (await other.execute(query.order_by(LLMBatchItemRow.id.desc()))).first()
                await other.execute(
                    update(LLMBatchItemRow)
                    .where(LLMBatchItemRow.id == last.id)
                    .values(step_status=ItemStepStatus.completed.value)
                )
            finished.append(last.id)
        seen.extend(r.id for r in rows)

    finished: list[str] = []
    query = decide.pending_items(ref.llm_batch_id, Shard(), COLUMNS)
    await for_each_chunk(service_ctx, query, 2, work, after_commit="settle.after_commit")

    assert len(seen) == 4 and finished and finished[0] not in seen
