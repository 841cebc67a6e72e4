"""Which items, agents and parts belong to one shard of a step (see ``contracts.Shard``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import ColumnElement, true

from letta_batch.contracts import Shard
from letta_batch.db.models_batch import LLMBatchItemRow

T = TypeVar("T")


def items_of(shard: Shard) -> ColumnElement[bool]:
    """SQL condition: the item belongs to ``shard`` (always true for a single shard)."""
    if shard.count == 1:
        return true()
    return (LLMBatchItemRow.part % shard.count) == shard.index


def chunk_size(full: int, shard: Shard) -> int:
    """Rows one activity handles per round when the step is split ``shard.count`` ways.

    The phases' chunk sizes bound a worker's memory; with ``n`` shards ``n`` activities of a
    phase run at once, usually in processes of one machine, so each takes ``1/n`` of the
    chunk and the machine's peak stays that of one unsharded chunk.
    """
    return max(1, full // shard.count)


def owns_part(shard: Shard, part: int) -> bool:
    """The provider batch (part) belongs to ``shard``: the Python twin of ``items_of``."""
    return part % shard.count == shard.index


def agents_of(shard: Shard, agent_ids: Sequence[T]) -> list[T]:
    """The shard's contiguous slice of the step's agents (in position order): slices differ
    in length by at most one and together hold every agent once."""
    n = len(agent_ids)
    return list(agent_ids[shard.index * n // shard.count : (shard.index + 1) * n // shard.count])
