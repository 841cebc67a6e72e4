"""Tools: bulk reads by id or name, bulk upsert by (organization, name)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch.db import models as m
from letta_batch.repositories.bulk import dialect_name, in_values, upsert
from letta_batch.repositories.rows import tool_from_row, tool_to_row
from letta_batch.schemas import Tool


async def load_tools(
    session: AsyncSession, org_id: str, tool_ids: Iterable[str]
) -> dict[str, Tool]:
    """Tools by id (one query). Ids of other organizations or unknown ids are absent."""
    ids = list(dict.fromkeys(tool_ids))
    if not ids:
        return {}
    t = m.tools
    rows = await session.execute(
        select(t).where(
            t.c.organization_id == org_id, in_values(t.c.id, ids, dialect_name(session))
        )
    )
    return {r["id"]: tool_from_row(r) for r in rows.mappings()}


async def load_tools_by_name(
    session: AsyncSession, org_id: str, names: Iterable[str]
) -> dict[str, Tool]:
    """Tools by name (one query); unknown names are absent."""
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return {}
    t = m.tools
    rows = await session.execute(
        select(t).where(
            t.c.organization_id == org_id, in_values(t.c.name, wanted, dialect_name(session))
        )
    )
    return {r["name"]: tool_from_row(r) for r in rows.mappings()}


async def upsert_tools(session: AsyncSession, org_id: str, tools: Sequence[Tool]) -> None:
    """Create or update ``tools`` by (organization, name) in one statement.

    An existing tool keeps its id (the given id is used only for new rows).
    """
    await upsert(
        session,
        m.tools,
        [tool_to_row(tool, org_id) for tool in tools],
        conflict_columns=["organization_id", "name"],
    )
