"""A phase's pass over a step's items: chunk by chunk, one transaction per chunk.

Decide, settle and persist each select the items they still have to do, in id order, a
chunk at a time: memory stays bounded by a chunk whatever the number of agents, a chunk's
writes commit together, and a retry after a crash starts again at the first chunk not
committed (the phase's filter no longer selects the others).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch.crashpoints import checkpoint
from letta_batch.db.models_batch import LLMBatchItemRow
from letta_batch.repositories.keyset import next_chunk
from letta_batch.services.runtime import ServiceContext

ChunkWork = Callable[[AsyncSession, Sequence[Any]], Awaitable[None]]
"""``work(session, rows)``: the phase's writes for one chunk, inside its transaction."""


async def for_each_chunk(
    ctx: ServiceContext, query: Select[Any], size: int, work: ChunkWork, *, after_commit: str
) -> None:
    """Run ``work`` on each chunk of ``size`` rows of ``query`` (item rows with an ``id``), in
    id order, each chunk in a transaction that commits when ``work`` returns; the crash
    point ``after_commit`` follows each commit."""
    after = ""
    while True:
        async with ctx.session_factory.begin() as session:
            rows, more = await next_chunk(session, query, LLMBatchItemRow.id, after, size)
            if not rows:
                return
            after = rows[-1].id
            await work(session, rows)
        await checkpoint(after_commit)
        if not more:
            return
