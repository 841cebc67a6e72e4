"""Organizations (tenants)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch.db import models as m
from letta_batch.db.types import utcnow
from letta_batch.repositories.bulk import insert_ignore


async def ensure_organization(session: AsyncSession, org_id: str, name: str | None = None) -> None:
    """Create the organization row unless it exists (one statement; never renames)."""
    await insert_ignore(
        session,
        m.organizations,
        [{"id": org_id, "name": name or org_id, "created_at": utcnow()}],
        conflict_columns=["id"],
    )
