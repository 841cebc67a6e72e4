"""``archival_memory_insert``: passages are planned per call and inserted in ONE statement.

Letta embeds the passage for semantic search; batch stores the text only (searches are
full-text, see ``search.py``). The passage id is derived from the tool call, so re-inserting
the same call is a no-op.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch import ids
from letta_batch.db import models as m
from letta_batch.repositories.bulk import insert_ignore


def passage_id(item_id: str, call_id: str) -> str:
    """The deterministic id of the passage a call inserts."""
    return ids.derived_id(ids.PASSAGE, item_id, call_id)


def plan_passage(
    *,
    org_id: str,
    agent_id: str,
    item_id: str,
    call_id: str,
    now: datetime,
    content: str,
    tags: list[str] | None = None,
) -> dict[str, Any]:
    """The ``passages`` row of one ``archival_memory_insert(content, tags)`` call.

    Raises ``TypeError`` for argument shapes Letta would reject too.
    """
    if not isinstance(content, str):
        raise TypeError(f"content must be a string, not {type(content).__name__}")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        raise TypeError("tags must be a list of strings")
    return {
        "id": passage_id(item_id, call_id),
        "organization_id": org_id,
        "agent_id": agent_id,
        "text": content,
        "tags": list(dict.fromkeys(tags or [])),
        "created_at": now,
    }


async def insert_passages(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert planned passages (one statement; already-present ids are skipped)."""
    await insert_ignore(session, m.passages, rows, conflict_columns=["id"])
