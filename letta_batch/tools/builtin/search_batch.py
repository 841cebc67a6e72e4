"""Many ``conversation_search`` calls as ONE PostgreSQL statement.

One query per call made the tools phase cost one round trip per agent (10,000 statements for a
10,000-agent step). Here every call's filters travel as one JSON recordset and a ``LATERAL``
subquery runs the same search per call — same filters, ranking, order and limit as
:func:`letta_batch.tools.builtin.search.conversation_search`, so results are identical. On
SQLite, and for a call whose arguments cannot be planned, the single-call function runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    DateTime,
    Integer,
    Text,
    bindparam,
    case,
    cast,
    column,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch import json_codec
from letta_batch.db import models as m
from letta_batch.db.unmapped import MESSAGE_SEARCH_VECTOR
from letta_batch.repositories.bulk import dialect_name
from letta_batch.repositories.rows import UNSEARCHED_ROLES
from letta_batch.tools.builtin.search import (
    _ENGLISH,
    CONVERSATION_SEARCH_TOOL_NAME,
    DEFAULT_PAGE_SIZE,
    conversation_search,
    format_conversation_results,
    parse_bound,
)


@dataclass(frozen=True)
class SearchCall:
    """One ``conversation_search`` call: whose messages, in which timezone, with what args."""

    agent_id: str
    tz: ZoneInfo
    args: dict[str, Any]


def _plan(
    tz: ZoneInfo,
    query: str | None = None,
    roles: list[str] | None = None,
    limit: int | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
) -> dict[str, Any]:
    """The call's filters as a recordset row (raises as the single-call function would)."""
    start = parse_bound(start_date, tz, param="start_date", end=False) if start_date else None
    end = parse_bound(end_date, tz, param="end_date", end=True) if end_date else None
    return {
        "query": query if query and query.strip() else None,
        "roles": [str(r) for r in roles] if roles else None,
        "lim": max(0, DEFAULT_PAGE_SIZE if limit is None else int(limit)),
        "start_at": start.isoformat() if start is not None else None,
        "end_at": end.isoformat() if end is not None else None,
    }


def _statement(org_id: str, payload: str) -> Any:
    t = m.messages
    v = (
        func.jsonb_to_recordset(cast(bindparam("calls", payload, type_=Text()), JSONB))
        .table_valued(
            column("idx", Integer()),
            column("agent_id", Text()),
            column("query", Text()),
            column("roles", JSONB()),
            column("lim", Integer()),
            column("start_at", DateTime(timezone=True)),
            column("end_at", DateTime(timezone=True)),
        )
        .render_derived(name="v", with_types=True)
    )
    # Same expressions as search._text_match: the stored vector, read, not computed per row.
    vector = MESSAGE_SEARCH_VECTOR
    tsquery = func.plainto_tsquery(_ENGLISH, v.c.query)
    rank = case((v.c.query.is_(None), literal(0.0)), else_=func.ts_rank(vector, tsquery))
    hits = (
        select(
            t.c.role,
            t.c.content,
            t.c.tool_calls,
            t.c.created_at,
            t.c.sequence_id,
            rank.label("rank"),
        )
        .where(
            t.c.organization_id == org_id,
            t.c.agent_id == v.c.agent_id,
            t.c.role.notin_(sorted(UNSEARCHED_ROLES)),
            func.coalesce(cast(t.c.tool_calls, Text), literal("")).not_like(
                f'%"name": "{CONVERSATION_SEARCH_TOOL_NAME}"%'
            ),
            or_(v.c.roles.is_(None), v.c.roles.op("?")(t.c.role)),
            or_(v.c.start_at.is_(None), t.c.created_at >= v.c.start_at),
            or_(v.c.end_at.is_(None), t.c.created_at <= v.c.end_at),
            or_(v.c.query.is_(None), vector.op("@@")(tsquery)),
        )
        .order_by(rank.desc(), t.c.created_at.desc(), t.c.sequence_id.desc())
        .limit(v.c.lim)
        .lateral("hit")
    )
    return (
        select(v.c.idx, hits.c.role, hits.c.content, hits.c.tool_calls, hits.c.created_at)
        .select_from(v.join(hits, true()))
        .order_by(v.c.idx, hits.c.rank.desc(), hits.c.created_at.desc(), hits.c.sequence_id.desc())
    )


async def conversation_search_many(
    session: AsyncSession, org_id: str, calls: Sequence[SearchCall]
) -> list[dict[str, Any] | BaseException]:
    """Each call's result (or the exception it raised before any SQL), in call order."""
    out: list[dict[str, Any] | BaseException | None] = [None] * len(calls)
    planned: list[dict[str, Any]] = []
    if dialect_name(session) == "postgresql":
        for i, call in enumerate(calls):
            try:
                filters = _plan(call.tz, **call.args)
            except (ValueError, TypeError, KeyError):
                continue  # the single-call path below raises the exact same error
            planned.append({"idx": i, "agent_id": call.agent_id, **filters})
    if planned:
        payload = json_codec.dumps(planned)
        rows: dict[int, list[Any]] = {p["idx"]: [] for p in planned}
        for row in (await session.execute(_statement(org_id, payload))).mappings():
            rows[row["idx"]].append(row)
        for idx, found in rows.items():
            out[idx] = format_conversation_results(
                found, calls[idx].tz, datetime.now(calls[idx].tz)
            )
    for i, call in enumerate(calls):
        if out[i] is None:
            try:
                out[i] = await conversation_search(
                    session, org_id, call.agent_id, call.tz, **call.args
                )
            except (ValueError, TypeError, KeyError) as exc:
                out[i] = exc
    return [r for r in out if r is not None]
