"""Reading a step's provider batches (its parts) and keeping the step's aggregate in step.

``send``, ``poll``, ``cancel`` and ``collect`` work part by part; the ``llm_batch_jobs`` row
carries the step's aggregate status and counts, recomputed here from the parts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from letta_batch.contracts import LLMBatchRef
from letta_batch.db.models_batch import LLMBatchJobRow, LLMBatchPartRow
from letta_batch.schemas import ProviderBatchStatus
from letta_batch.services.runtime import NonRetryable

#: Part statuses after which the provider has nothing more to say about the part.
FINISHED = frozenset(
    {
        ProviderBatchStatus.ended.value,
        ProviderBatchStatus.collected.value,
        ProviderBatchStatus.failed.value,
    }
)
#: Part statuses while the provider holds the part.
RUNNING = frozenset({ProviderBatchStatus.in_progress.value, ProviderBatchStatus.canceling.value})
#: The provider's per-outcome count names (``request_counts``).
COUNT_NAMES = ("processing", "succeeded", "errored", "canceled", "expired")


async def load_step(session: Any, ref: LLMBatchRef) -> tuple[LLMBatchJobRow, list[LLMBatchPartRow]]:
    """The step's row and its parts in part order."""
    step = await session.scalar(
        select(LLMBatchJobRow).where(
            LLMBatchJobRow.id == ref.llm_batch_id,
            LLMBatchJobRow.organization_id == ref.organization_id,
        )
    )
    if step is None:
        raise NonRetryable(f"llm_batch_id: no provider batch row {ref.llm_batch_id!r}")
    parts = (
        await session.scalars(
            select(LLMBatchPartRow)
            .where(LLMBatchPartRow.llm_batch_id == ref.llm_batch_id)
            .order_by(LLMBatchPartRow.part)
        )
    ).all()
    return step, list(parts)


def first_provider_batch_id(parts: list[LLMBatchPartRow]) -> str | None:
    return next((p.provider_batch_id for p in parts if p.provider_batch_id), None)


def summed_counts(parts: list[LLMBatchPartRow]) -> dict[str, int]:
    """Per-outcome counts over all parts; a refused part's requests count as errored."""
    total = dict.fromkeys(COUNT_NAMES, 0)
    for part in parts:
        if part.status == ProviderBatchStatus.failed.value:
            total["errored"] += part.request_count
            continue
        for name, value in (part.request_counts or {}).items():
            if name in total:
                total[name] += int(value)
    return total


def step_status(parts: list[LLMBatchPartRow]) -> ProviderBatchStatus:
    """The step's status from its parts' (``ended`` once every part has finished)."""
    statuses = {p.status for p in parts}
    if not parts or statuses == {ProviderBatchStatus.failed.value}:
        return ProviderBatchStatus.failed
    if statuses <= FINISHED:
        return ProviderBatchStatus.ended
    if ProviderBatchStatus.canceling.value in statuses:
        return ProviderBatchStatus.canceling
    return ProviderBatchStatus.in_progress
