"""How PostgreSQL finds the rows a bulk update or delete changes: by index, not by a scan.

A staged update joined to its target by equality alone was planned as a hash join over a
sequential scan of the whole target table (the fresh stage has no statistics): every chunk
of a step read all of ``llm_batch_items``, every job's, to change 10,000 rows. These tests
EXPLAIN the statement the helper ran, inside its transaction (the stage is still there), on
a table large enough for that plan to be chosen.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from letta_batch.db import create_engine, session_factory
from letta_batch.repositories import bulk

pytestmark = pytest.mark.asyncio(loop_scope="session")

_META = MetaData()
WIDE = Table(
    "plan_wide",
    _META,
    Column("id", String, primary_key=True),
    Column("note", Text),
)
PAIRS = Table(
    "plan_pairs",
    _META,
    Column("job_id", String, primary_key=True),
    Column("agent_id", String, primary_key=True),
    Column("steps", Integer),
    Column("note", Text),
)
TABLE_ROWS = 30_000
CHANGED = 5_000
#: Wide staged values: the planner sizes the stage by its pages, as with item decisions.
NOTE = "n" * 900


@pytest.fixture
async def plan_engine(pg_db_factory: Any) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(await pg_db_factory())
    async with engine.begin() as conn:
        await conn.run_sync(_META.create_all)
        await conn.execute(
            text(
                "INSERT INTO plan_wide SELECT 'row-' || lpad(g::text, 6, '0'), 'x' "
                f"FROM generate_series(1, {TABLE_ROWS}) g"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO plan_pairs SELECT 'job-' || (g % 3), 'agent-' || lpad(g::text, 6, '0'),"
                f" 0, 'x' FROM generate_series(1, {TABLE_ROWS}) g"
            )
        )
        await conn.execute(text("ANALYZE plan_wide"))
        await conn.execute(text("ANALYZE plan_pairs"))
    yield engine
    await engine.dispose()


async def _explain_last(session: AsyncSession, statements: list[tuple[str, Any]]) -> str:
    statement, parameters = statements[-1]
    conn = await session.connection()
    plan = await conn.exec_driver_sql("EXPLAIN " + statement, parameters)
    return "\n".join(row[0] for row in plan)


def _capture(engine: AsyncEngine, prefix: str) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def remember(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(prefix):
            seen.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", remember)
    return seen


async def test_update_rows_finds_the_rows_by_index(plan_engine: AsyncEngine) -> None:
    rows = [{"id": f"row-{i:06d}", "note": NOTE} for i in range(1, CHANGED + 1)]
    seen = _capture(plan_engine, "UPDATE")
    async with session_factory(plan_engine)() as session, session.begin():
        await bulk.update_rows(session, WIDE, rows)
        plan = await _explain_last(session, seen)
        changed = await session.scalar(
            text("SELECT count(*) FROM plan_wide WHERE note = :note"), {"note": NOTE}
        )
    assert changed == CHANGED
    assert "Seq Scan on plan_wide" not in plan, plan
    assert "Index Cond: ((id)::text = ANY" in plan, plan


async def test_update_rows_with_a_two_column_lookup(plan_engine: AsyncEngine) -> None:
    rows = [
        {"job_id": "job-1", "agent_id": f"agent-{i:06d}", "steps": 1, "note": NOTE}
        for i in range(1, 3 * CHANGED, 3)
    ]
    seen = _capture(plan_engine, "UPDATE")
    async with session_factory(plan_engine)() as session, session.begin():
        await bulk.update_rows(
            session,
            PAIRS,
            rows,
            key_columns=("job_id", "agent_id"),
            lookup=("job_id", "agent_id"),
        )
        plan = await _explain_last(session, seen)
        changed = await session.scalar(text("SELECT count(*) FROM plan_pairs WHERE steps = 1"))
    assert changed == len(rows)
    assert "Seq Scan on plan_pairs" not in plan, plan
    assert "(job_id)::text = ANY" in plan and "(agent_id)::text = ANY" in plan, plan


async def test_delete_rows_finds_the_rows_by_index(plan_engine: AsyncEngine) -> None:
    rows = [{"id": f"row-{i:06d}"} for i in range(1, CHANGED + 1)]
    seen = _capture(plan_engine, "DELETE")
    async with session_factory(plan_engine)() as session, session.begin():
        await bulk.delete_rows(session, WIDE, rows, key_columns=["id"])
        plan = await _explain_last(session, seen)
        left = await session.scalar(text("SELECT count(*) FROM plan_wide"))
    assert left == TABLE_ROWS - CHANGED
    assert "Seq Scan on plan_wide" not in plan, plan
    assert "Index Cond: ((id)::text = ANY" in plan, plan
