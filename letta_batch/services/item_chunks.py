"""A phase's pass over a step's items: chunk by chunk, one transaction per chunk.

Decide, settle and persist each select the items they still have to do, in id order, a
chunk at a time: memory stays bounded by a chunk whatever the number of agents, a chunk's
writes commit together, and a retry after a crash starts again at the first chunk not
committed (the phase's filter no longer selects the others).

The ids come first, a page of :data:`ID_PAGE` at a time, and each chunk is then read by id
(send's stream of request bodies reads its part the same way, with ``id_chunks`` and
``rows_by_id``).
Paging the phase's own (wide) query by ``id > last ORDER BY id LIMIT n`` made PostgreSQL
find and sort every remaining item of the step for every chunk: the items of a step are
found through ``(llm_batch_id, agent_id)``, not in id order, and their result, state and
decision columns made the sort spill to disk (46 MB per chunk for 30,000 agents). That was
quadratic in the step's size: at 100,000 agents the settle chunks' query wrote 3.6 GB of
temporary files per job and cost 54 µs per item against 13 at 10,000.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch.crashpoints import checkpoint
from letta_batch.db.models_batch import LLMBatchItemRow
from letta_batch.repositories.bulk import dialect_name, in_values
from letta_batch.repositories.keyset import next_chunk
from letta_batch.services.runtime import ServiceContext

ChunkWork = Callable[[AsyncSession, Sequence[Any]], Awaitable[None]]
"""``work(session, rows)``: the phase's writes for one chunk, inside its transaction."""

#: Item ids read per query before their chunks are processed: one narrow scan of the step's
#: items per page (a 100,000-request provider batch is one page), ~8 MB of ids at most.
ID_PAGE = 100_000


async def id_pages(ctx: ServiceContext, query: Select[Any]) -> AsyncIterator[list[str]]:
    """The ids of the items ``query`` selects, in id order, :data:`ID_PAGE` at a time (one
    narrow query per page, each in a session of its own)."""
    ids_query = query.with_only_columns(LLMBatchItemRow.id)
    after = ""
    while True:
        async with ctx.session_factory() as session:
            page, more = await next_chunk(session, ids_query, LLMBatchItemRow.id, after, ID_PAGE)
        if not page:
            return
        after = page[-1].id
        yield [row.id for row in page]
        if not more:
            return


async def id_chunks(ctx: ServiceContext, query: Select[Any], size: int) -> AsyncIterator[list[str]]:
    """The ids of :func:`id_pages`, ``size`` at a time (a page split into chunks)."""
    async for ids in id_pages(ctx, query):
        for start in range(0, len(ids), size):
            yield ids[start : start + size]


async def rows_by_id(session: AsyncSession, query: Select[Any], ids: list[str]) -> list[Any]:
    """The rows of ``query`` among ``ids``, in id order (sorted here: sorting wide rows in
    PostgreSQL would spill to disk). Rows the query no longer selects are left out."""
    column = LLMBatchItemRow.__table__.c.id
    found = await session.execute(query.where(in_values(column, ids, dialect_name(session))))
    return sorted(found.all(), key=lambda row: row.id)


async def for_each_chunk(
    ctx: ServiceContext, query: Select[Any], size: int, work: ChunkWork, *, after_commit: str
) -> None:
    """Run ``work`` on each chunk of ``size`` rows of ``query`` (item rows with an ``id``), in
    id order, each chunk in a transaction that commits when ``work`` returns; the crash
    point ``after_commit`` follows each commit."""
    async for ids in id_chunks(ctx, query, size):
        async with ctx.session_factory.begin() as session:
            # The phase's own filter again: a row another attempt finished meanwhile is no
            # longer selected.
            rows = await rows_by_id(session, query, ids)
            if rows:
                await work(session, rows)
        if rows:
            await checkpoint(after_commit)
