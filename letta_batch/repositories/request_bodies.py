"""Stored request bodies made whole again: each with its shared ``tools`` array put back.

``build`` stores a request's params without the ``tools`` array many agents share
(``stepping/stored_request.py``); the provider, and anyone inspecting what it was sent, needs
them whole.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch.db.models_batch import LLMBatchItemRow, RequestToolSetRow
from letta_batch.stepping.stored_request import join_tools

#: The item columns :func:`whole_bodies` needs, in the order it reads them.
STORED_BODY_COLUMNS = (
    LLMBatchItemRow.id,
    LLMBatchItemRow.request_body,
    LLMBatchItemRow.request_tools_id,
    LLMBatchItemRow.request_tools_at,
)


def octet_length(column: Any, dialect: str) -> ColumnElement[int]:
    """Bytes of a blob column (SQLite's ``length()`` of a blob counts bytes)."""
    return func.octet_length(column) if dialect == "postgresql" else func.length(column)


def params_bytes(dialect: str) -> ColumnElement[int]:
    """Size of an item's params as the provider receives them: the stored body and its shared
    ``tools`` array, read from the stored sizes (neither is fetched). Select from
    :func:`with_tool_sets`."""
    tools = octet_length(RequestToolSetRow.tools, dialect)
    return octet_length(LLMBatchItemRow.request_body, dialect) + func.coalesce(tools, 0)


def with_tool_sets(query: Select[Any]) -> Select[Any]:
    """``query`` over the items joined to their shared ``tools`` arrays (none for items
    stored whole), for :func:`params_bytes`."""
    return query.select_from(LLMBatchItemRow).outerjoin(
        RequestToolSetRow, RequestToolSetRow.id == LLMBatchItemRow.request_tools_id
    )


async def whole_bodies(
    session: AsyncSession,
    rows: Sequence[Any],
    tool_sets: MutableMapping[str, bytes] | None = None,
) -> Iterator[tuple[str, bytes]]:
    """``(item id, params as the provider receives them)`` for rows of ``STORED_BODY_COLUMNS``.

    The arrays are read first (one query for those not in ``tool_sets``, which caches them
    across calls); each body is made whole as the iterator reaches it, so a chunk's bodies
    are not all held twice. Raises ``RuntimeError`` when an item names an array that is not
    stored.
    """
    cache: MutableMapping[str, bytes] = {} if tool_sets is None else tool_sets
    wanted = {r[2] for r in rows if r[2] is not None}
    missing = wanted - cache.keys()
    if missing:
        found = await session.execute(
            select(RequestToolSetRow.id, RequestToolSetRow.tools).where(
                RequestToolSetRow.id.in_(sorted(missing))
            )
        )
        cache.update((k, bytes(v)) for k, v in found.tuples())
    absent = sorted(wanted - cache.keys())
    if absent:
        raise RuntimeError(f"request_tools_id {absent[0]!r} is not in request_tool_sets")
    return (
        (item_id, join_tools(body, None if tools_id is None else cache[tools_id], tools_at))
        for item_id, body, tools_id, tools_at in rows
    )
