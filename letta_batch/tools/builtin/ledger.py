"""The ``tool_executions`` ledger: exactly-once bookkeeping of tool calls.

A call is identified by ``(batch_item_id, tool_call_id)`` (unique in the table). Execution
claims its calls first; calls already ``succeeded``/``failed`` are not claimed and their
stored result is returned instead, so a retried chunk never applies a memory edit twice. Claim,
side effects and the final rows all happen in the caller's transaction: they commit together
or not at all.

A caller whose transaction fails anyway when another attempt commits the same calls first
(settle: its messages go in as new) may skip the claim: it looks the calls up
(:func:`load_known`), runs those without a row and inserts their final rows as new
(:func:`record`): one row version per call instead of two. The unique key then fails the
loser's transaction, which rolls its effects back with it.

Each helper is ONE statement whatever the number of calls (the rows travel as one JSON
parameter that the database unnests, or as one ``COPY``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch import ids, json_codec
from letta_batch.db import models as m
from letta_batch.db.types import UTCDateTime, utcnow
from letta_batch.repositories.bulk import dialect_name, in_values, insert_rows
from letta_batch.tools.results import ToolResult

CallKey = tuple[str, str]
"""``(batch_item_id, tool_call_id)``."""

RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
FINISHED = (SUCCEEDED, FAILED)

_COLUMNS = "id, organization_id, batch_item_id, tool_call_id, agent_id, tool_name, args"
_PG_CLAIM = text(
    f"""
    INSERT INTO tool_executions ({_COLUMNS}, status, attempts, created_at)
    SELECT {_COLUMNS}, 'running', 1, :now
    FROM jsonb_to_recordset(CAST(:payload AS jsonb)) AS v(
        id text, organization_id text, batch_item_id text, tool_call_id text,
        agent_id text, tool_name text, args jsonb)
    ON CONFLICT (batch_item_id, tool_call_id) DO UPDATE
        SET attempts = tool_executions.attempts + 1, status = 'running'
        WHERE tool_executions.status NOT IN ('succeeded', 'failed')
    RETURNING batch_item_id, tool_call_id
    """
)
_SQLITE_CLAIM = text(
    f"""
    INSERT INTO tool_executions ({_COLUMNS}, status, attempts, created_at)
    SELECT json_extract(j.value, '$.id'), json_extract(j.value, '$.organization_id'),
           json_extract(j.value, '$.batch_item_id'), json_extract(j.value, '$.tool_call_id'),
           json_extract(j.value, '$.agent_id'), json_extract(j.value, '$.tool_name'),
           json(json_extract(j.value, '$.args')), 'running', 1, :now
    FROM json_each(:payload) AS j WHERE true
    ON CONFLICT (batch_item_id, tool_call_id) DO UPDATE
        SET attempts = tool_executions.attempts + 1, status = 'running'
        WHERE tool_executions.status NOT IN ('succeeded', 'failed')
    RETURNING batch_item_id, tool_call_id
    """
)
_PG_FINISH = text(
    """
    UPDATE tool_executions AS t
    SET status = v.status, result = v.result, error = v.error, finished_at = :now
    FROM jsonb_to_recordset(CAST(:payload AS jsonb)) AS v(
        batch_item_id text, tool_call_id text, status text, result jsonb, error text)
    WHERE t.batch_item_id = v.batch_item_id AND t.tool_call_id = v.tool_call_id
      AND t.organization_id = :org
    """
)
_SQLITE_FINISH = text(
    """
    UPDATE tool_executions
    SET status = v.status, result = v.result, error = v.error, finished_at = :now
    FROM (
        SELECT json_extract(j.value, '$.batch_item_id') AS batch_item_id,
               json_extract(j.value, '$.tool_call_id') AS tool_call_id,
               json_extract(j.value, '$.status') AS status,
               json(json_extract(j.value, '$.result')) AS result,
               json_extract(j.value, '$.error') AS error
        FROM json_each(:payload) AS j
    ) AS v
    WHERE tool_executions.batch_item_id = v.batch_item_id
      AND tool_executions.tool_call_id = v.tool_call_id
      AND tool_executions.organization_id = :org
    """
)


def execution_id(key: CallKey) -> str:
    """The deterministic ``tool_executions.id`` of a call."""
    return ids.derived_id(ids.TOOL_EXECUTION, *key)


def _call_row(
    org_id: str, key: CallKey, agent_id: str, tool_name: str, args: Mapping[str, Any]
) -> dict[str, Any]:
    """The columns of a call's row that say which call it is."""
    return {
        "id": execution_id(key),
        "organization_id": org_id,
        "batch_item_id": key[0],
        "tool_call_id": key[1],
        "agent_id": agent_id,
        "tool_name": tool_name,
        "args": dict(args),
    }


async def claim(
    session: AsyncSession,
    org_id: str,
    calls: Sequence[tuple[CallKey, str, str, Mapping[str, Any]]],
) -> set[CallKey]:
    """Claim ``(key, agent_id, tool_name, args)`` calls; returns the keys now ours to run.

    New calls are inserted as ``running``; unfinished ones (a crashed attempt of another code
    path) are re-claimed with ``attempts + 1``; finished ones are left alone and not returned.
    A concurrent transaction claiming the same key waits for ours to end, then sees it
    finished.
    """
    if not calls:
        return set()
    payload = json_codec.dumps(
        [
            _call_row(org_id, key, agent_id, tool_name, args)
            for key, agent_id, tool_name, args in calls
        ],
        default=str,
    )
    stmt = _PG_CLAIM if dialect_name(session) == "postgresql" else _SQLITE_CLAIM
    stmt = stmt.bindparams(bindparam("now", type_=UTCDateTime()))
    rows = await session.execute(stmt, {"payload": payload, "now": utcnow()})
    return {(r[0], r[1]) for r in rows}


async def load_finished(
    session: AsyncSession, org_id: str, keys: Iterable[CallKey]
) -> dict[CallKey, ToolResult]:
    """Stored results of calls that already finished (one query)."""
    wanted = set(keys)
    if not wanted:
        return {}
    t = m.tool_executions
    rows = await session.execute(
        select(t.c.batch_item_id, t.c.tool_call_id, t.c.result).where(
            t.c.organization_id == org_id,
            in_values(t.c.batch_item_id, {k[0] for k in wanted}, dialect_name(session)),
            t.c.status.in_(FINISHED),
        )
    )
    found: dict[CallKey, ToolResult] = {}
    for item_id, call_id, result in rows.all():
        if (item_id, call_id) in wanted and result is not None:
            found[(item_id, call_id)] = ToolResult.model_validate(result)
    return found


async def finish(session: AsyncSession, org_id: str, results: Mapping[CallKey, ToolResult]) -> None:
    """Store each claimed call's result and final status (one statement)."""
    if not results:
        return
    payload = json_codec.dumps(
        [
            {
                "batch_item_id": key[0],
                "tool_call_id": key[1],
                "status": SUCCEEDED if result.success_flag else FAILED,
                "result": result.model_dump(mode="json"),
                "error": None if result.success_flag else result.func_response,
            }
            for key, result in results.items()
        ],
        default=str,
    )
    stmt = _PG_FINISH if dialect_name(session) == "postgresql" else _SQLITE_FINISH
    stmt = stmt.bindparams(bindparam("now", type_=UTCDateTime()))
    await session.execute(stmt, {"payload": payload, "org": org_id, "now": utcnow()})


async def load_known(session: AsyncSession, org_id: str, keys: Iterable[CallKey]) -> set[CallKey]:
    """Those of ``keys`` whose call already has a row, whatever its status (one query)."""
    wanted = set(keys)
    if not wanted:
        return set()
    t = m.tool_executions
    rows = await session.execute(
        select(t.c.batch_item_id, t.c.tool_call_id).where(
            t.c.organization_id == org_id,
            in_values(t.c.batch_item_id, {k[0] for k in wanted}, dialect_name(session)),
        )
    )
    return {(item_id, call_id) for item_id, call_id in rows.all()} & wanted


async def record(
    session: AsyncSession,
    org_id: str,
    calls: Sequence[tuple[CallKey, str, str, Mapping[str, Any], ToolResult]],
) -> None:
    """Insert the final rows of ``(key, agent_id, tool_name, args, result)`` calls that had
    none (one statement): the row :func:`claim` then :func:`finish` leave, written once.
    A row another transaction committed meanwhile fails this one (unique key)."""
    now = utcnow()
    await insert_rows(
        session,
        m.tool_executions,
        [
            {
                **_call_row(org_id, key, agent_id, tool_name, args),
                "status": SUCCEEDED if result.success_flag else FAILED,
                "attempts": 1,
                "result": result.model_dump(mode="json"),
                "error": None if result.success_flag else result.func_response,
                "created_at": now,
                "finished_at": now,
            }
            for key, agent_id, tool_name, args, result in calls
        ],
    )
