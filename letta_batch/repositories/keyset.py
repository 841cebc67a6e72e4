"""Reading a large set in chunks by key (keyset pagination), one round per chunk.

Reads one row past the chunk, so the caller knows whether another round is needed without
an extra, empty query when the set exactly fills its last chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute


async def next_chunk(
    session: AsyncSession, query: Select[Any], key: QueryableAttribute[Any], after: Any, size: int
) -> tuple[Sequence[Any], bool]:
    """Up to ``size`` rows of ``query`` with ``key > after`` in key order, and whether more
    rows follow them."""
    rows = (await session.execute(query.where(key > after).order_by(key).limit(size + 1))).all()
    return rows[:size], len(rows) > size
