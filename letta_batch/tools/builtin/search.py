"""``conversation_search`` and ``archival_memory_search`` as full-text queries.

Letta ranks with embeddings (hybrid vector + full-text). Batch has no embedding model, so both
tools use text search: on PostgreSQL the stored ``to_tsvector('english', …)`` of the text
(generated column ``search_vector``, GIN-indexed) ``@@ plainto_tsquery(…)``, ranked by
``ts_rank``, and on SQLite a case-insensitive substring match of every query
word. One query per search call (each call has its own text, filters and limit).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Text,
    and_,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch.db import models as m
from letta_batch.db.unmapped import MESSAGE_SEARCH_VECTOR, PASSAGE_SEARCH_VECTOR
from letta_batch.repositories.bulk import dialect_name
from letta_batch.repositories.rows import UNSEARCHED_ROLES

#: Letta's RETRIEVAL_QUERY_DEFAULT_PAGE_SIZE.
DEFAULT_PAGE_SIZE = 5
CONVERSATION_SEARCH_TOOL_NAME = "conversation_search"
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ENGLISH: ColumnElement[str] = literal_column("'english'")


def parse_bound(value: str, tz: ZoneInfo, *, param: str, end: bool) -> datetime:
    """An inclusive date bound in the agent's timezone (Letta's parsing and error text).

    A date-only end bound covers its whole day (Letta documents this; its code, on Python
    3.11+, stops at midnight instead — fixed here).
    """
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"Invalid {param} format: {value}. Use ISO 8601 format (YYYY-MM-DD or YYYY-MM-DDTHH:MM)"
        ) from None
    if end and _DATE_ONLY.match(value):
        parsed = datetime.combine(parsed.date(), time.max)
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed


def _text_match(
    column: ColumnElement[Any], vector: ColumnElement[Any], query: str, dialect: str
) -> tuple[Any, Any]:
    """(filter, rank) for ``query`` against ``column``; on PostgreSQL against ``vector``, the
    column's stored ``to_tsvector('english', …)`` (migration 0006)."""
    if dialect == "postgresql":
        tsquery = func.plainto_tsquery(_ENGLISH, query)
        return vector.op("@@")(tsquery), func.ts_rank(vector, tsquery).desc()
    words = [w.lower() for w in query.split()]
    return and_(*(func.lower(column).contains(w, autoescape=True) for w in words)), None


def _time_ago(now: datetime, then: datetime) -> str:
    seconds = int((now - then).total_seconds())
    if seconds < 60:
        return f"{seconds}s ago"
    if seconds < 3600:
        return f"{seconds // 60}m ago"
    if seconds < 86400:
        return f"{seconds // 3600}h ago"
    return f"{seconds // 86400}d ago"


def _message_text(row: Any) -> str:
    parts = [p.get("text", "") for p in row["content"] or [] if p.get("type") == "text"]
    for call in row["tool_calls"] or []:
        fn = call.get("function") or {}
        if fn.get("name") == "send_message":
            try:
                parts.append(str(json.loads(fn.get("arguments") or "{}").get("message", "")))
            except (ValueError, AttributeError):
                parts.append(str(fn.get("arguments")))
        else:
            parts.append(f"{fn.get('name')}({fn.get('arguments')})")
    return "\n".join(p for p in parts if p)


async def conversation_search(
    session: AsyncSession,
    org_id: str,
    agent_id: str,
    tz: ZoneInfo,
    query: str | None = None,
    roles: list[str] | None = None,
    limit: int | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
) -> dict[str, Any]:
    """Search the agent's messages (Letta's result shape).

    Tool messages, the agent's own ``conversation_search`` calls and system messages are
    never returned. Without a query, the newest messages matching the filters are returned.
    """
    t = m.messages
    dialect = dialect_name(session)
    conds: list[Any] = [
        t.c.organization_id == org_id,
        t.c.agent_id == agent_id,
        t.c.role.notin_(sorted(UNSEARCHED_ROLES)),
        func.coalesce(cast(t.c.tool_calls, Text), literal("")).not_like(
            f'%"name": "{CONVERSATION_SEARCH_TOOL_NAME}"%'
        ),
    ]
    if roles:
        conds.append(t.c.role.in_([str(r) for r in roles]))
    if start_date:
        conds.append(t.c.created_at >= parse_bound(start_date, tz, param="start_date", end=False))
    if end_date:
        conds.append(t.c.created_at <= parse_bound(end_date, tz, param="end_date", end=True))
    order: list[Any] = []
    if query and query.strip():
        match, rank = _text_match(t.c.search_text, MESSAGE_SEARCH_VECTOR, query, dialect)
        conds.append(match)
        if rank is not None:
            order.append(rank)
    order += [t.c.created_at.desc(), t.c.sequence_id.desc()]
    size = max(0, DEFAULT_PAGE_SIZE if limit is None else int(limit))
    stmt = select(t.c.role, t.c.content, t.c.tool_calls, t.c.created_at).where(*conds)
    rows = (await session.execute(stmt.order_by(*order).limit(size))).mappings().all()
    return format_conversation_results(rows, tz, datetime.now(tz))


def format_conversation_results(rows: Sequence[Any], tz: ZoneInfo, now: datetime) -> dict[str, Any]:
    """Letta's ``conversation_search`` result for the matched message rows (best first)."""
    if not rows:
        return {"message": "No results found.", "results": []}
    results = []
    for row in rows:
        local = row["created_at"].astimezone(tz)
        entry: dict[str, Any] = {
            "timestamp": local.isoformat(),
            "time_ago": _time_ago(now, local),
            "role": row["role"],
        }
        content = _message_text(row)
        if content:
            # Letta parses JSON-looking text (heartbeats, login events) and merges objects.
            try:
                parsed = json.loads(content)
            except ValueError:
                parsed = content
            if isinstance(parsed, dict):
                entry.update(parsed)
            else:
                entry["content"] = parsed
        results.append(entry)
    return {"message": f"Showing {len(results)} results:", "results": results}


def _tag_filter(column: Any, tags: list[str], mode: str, dialect: str) -> Any:
    if dialect == "postgresql":
        as_jsonb = cast(column, JSONB)
        if mode == "all":
            return as_jsonb.contains(tags)
        return or_(*(as_jsonb.contains([tag]) for tag in tags))
    each = func.json_each(column).table_valued("value")
    if mode == "all":
        return and_(*(exists(select(each.c.value).where(each.c.value == tag)) for tag in tags))
    return exists(select(each.c.value).where(each.c.value.in_(tags)))


async def archival_memory_search(
    session: AsyncSession,
    org_id: str,
    agent_id: str,
    tz: ZoneInfo,
    query: str,
    tags: list[str] | None = None,
    tag_match_mode: str = "any",
    top_k: int | None = None,
    start_datetime: str | None = None,
    end_datetime: str | None = None,
) -> list[dict[str, Any]]:
    """Search the agent's passages: ``[{id, timestamp, content, tags}]`` (best first).

    An empty or blank query returns no results (as Letta). ``tag_match_mode`` is ``any`` or
    ``all``; date bounds are inclusive, in the agent's timezone when naive.
    """
    if tag_match_mode not in ("any", "all"):
        raise ValueError(f"tag_match_mode must be 'any' or 'all', not {tag_match_mode!r}")
    if not query or not query.strip():
        return []
    p = m.passages
    dialect = dialect_name(session)
    match, rank = _text_match(p.c.text, PASSAGE_SEARCH_VECTOR, query, dialect)
    conds: list[Any] = [p.c.organization_id == org_id, p.c.agent_id == agent_id, match]
    if tags:
        conds.append(_tag_filter(p.c.tags, list(tags), tag_match_mode, dialect))
    if start_datetime:
        start = parse_bound(start_datetime, tz, param="start_datetime", end=False)
        conds.append(p.c.created_at >= start)
    if end_datetime:
        conds.append(
            p.c.created_at <= parse_bound(end_datetime, tz, param="end_datetime", end=True)
        )
    order = ([rank] if rank is not None else []) + [p.c.created_at.desc(), p.c.id]
    size = max(0, DEFAULT_PAGE_SIZE if top_k is None else int(top_k))
    stmt = select(p.c.id, p.c.text, p.c.tags, p.c.created_at).where(*conds)
    rows = (await session.execute(stmt.order_by(*order).limit(size))).mappings().all()
    return [
        {
            "id": row["id"],
            "timestamp": row["created_at"].astimezone(tz).isoformat(),
            "content": row["text"],
            "tags": list(row["tags"] or []),
        }
        for row in rows
    ]
