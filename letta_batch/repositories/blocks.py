"""Memory blocks: bulk reads and optimistic bulk value updates."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch.db import models as m
from letta_batch.db.types import UTCDateTime, utcnow
from letta_batch.repositories.bulk import dialect_name, in_values
from letta_batch.repositories.rows import block_from_row
from letta_batch.schemas import Block

# One UPDATE for any number of blocks: the new values travel as one JSON parameter that the
# database unnests, and RETURNING tells which rows passed the version check.
_PG_UPDATE = text(
    """
    UPDATE blocks AS b
    SET value = v.value, version = b.version + 1, updated_at = :now
    FROM jsonb_to_recordset(CAST(:payload AS jsonb)) AS v(id text, value text, expected integer)
    WHERE b.id = v.id
      AND b.organization_id = :org
      AND (v.expected IS NULL OR b.version = v.expected)
    RETURNING b.id, b.version
    """
)
_SQLITE_UPDATE = text(
    """
    UPDATE blocks
    SET value = v.value, version = blocks.version + 1, updated_at = :now
    FROM (
        SELECT json_extract(j.value, '$.id') AS id,
               json_extract(j.value, '$.value') AS value,
               json_extract(j.value, '$.expected') AS expected
        FROM json_each(:payload) AS j
    ) AS v
    WHERE blocks.id = v.id
      AND blocks.organization_id = :org
      AND (v.expected IS NULL OR blocks.version = v.expected)
    RETURNING blocks.id, blocks.version
    """
)


@dataclass
class BlockUpdateResult:
    """Outcome of :func:`update_block_values`."""

    versions: dict[str, int] = field(default_factory=dict)
    """Updated block id → its new version."""
    conflicts: set[str] = field(default_factory=set)
    """Ids not updated: the version moved on, the block is gone, or it belongs elsewhere."""

    @property
    def ok(self) -> bool:
        return not self.conflicts


async def load_blocks(
    session: AsyncSession, org_id: str, block_ids: Iterable[str]
) -> dict[str, Block]:
    """Blocks by id (one query); unknown ids and other organizations' blocks are absent."""
    ids = list(dict.fromkeys(block_ids))
    if not ids:
        return {}
    b = m.blocks
    rows = await session.execute(
        select(b).where(
            b.c.organization_id == org_id, in_values(b.c.id, ids, dialect_name(session))
        )
    )
    return {r["id"]: block_from_row(r) for r in rows.mappings()}


async def update_block_values(
    session: AsyncSession,
    org_id: str,
    updates: Mapping[str, tuple[str, int | None]],
) -> BlockUpdateResult:
    """Set ``value`` of many blocks in ONE statement, each guarded by its expected version.

    ``updates`` maps block id → ``(new_value, expected_version)``; ``expected_version=None``
    skips the check (last writer wins). Each updated block's ``version`` increases by one.
    Blocks whose version differs are left untouched and reported in ``conflicts``; the caller
    decides whether to reload and retry. Read-only and limit checks are the caller's.
    """
    if not updates:
        return BlockUpdateResult()
    payload = json.dumps(
        [
            {"id": bid, "value": value, "expected": expected}
            for bid, (value, expected) in updates.items()
        ]
    )
    stmt = _PG_UPDATE if dialect_name(session) == "postgresql" else _SQLITE_UPDATE
    stmt = stmt.bindparams(bindparam("now", type_=UTCDateTime()))
    rows = await session.execute(stmt, {"payload": payload, "org": org_id, "now": utcnow()})
    versions = {row[0]: int(row[1]) for row in rows}
    return BlockUpdateResult(versions=versions, conflicts=set(updates) - set(versions))
