"""Fan a step phase out over the job's shards and merge what the activities report.

With one shard a phase is one activity call, exactly as before shards existed. With ``n``
shards it is ``n`` concurrent calls, each on its slice of the step (``contracts.Shard``), so
that ``n`` worker processes share a large step; their outputs are counts and add up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from letta_batch.contracts import Shard

R = TypeVar("R", bound=BaseModel)


async def each_shard(count: int, call: Callable[[Shard], Awaitable[R]]) -> list[R]:
    """``call`` once per shard, concurrently; results in shard order."""
    return list(await asyncio.gather(*(call(Shard(index=i, count=count)) for i in range(count))))


def merged(results: Sequence[R]) -> R:
    """One output for the whole step: integer fields summed, the rest from shard 0."""
    first = results[0]
    if len(results) == 1:
        return first
    totals = {
        name: sum(getattr(r, name) for r in results)
        for name, value in first
        if isinstance(value, int) and not isinstance(value, bool)
    }
    return first.model_copy(update=totals)


def shard_label(shard: Shard) -> str:
    """Suffix for activity summaries: empty with a single shard."""
    return "" if shard.count == 1 else f" (shard {shard.index + 1}/{shard.count})"
