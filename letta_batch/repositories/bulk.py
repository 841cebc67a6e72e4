"""Dialect-aware bulk SQL helpers: set membership with one bind parameter, idempotent
inserts, upserts and keyed updates as ONE statement whatever the number of rows.

That constant statement count is what keeps the step loop's database cost independent of
the number of agents (spec §8.14). On PostgreSQL the rows go through a binary COPY
into a temporary table (``staging``) joined by one statement: three statements whatever the
number of rows, no parameter limit, and linear in the payload (one JSON parameter unnested
by ``jsonb_to_recordset``, used before, grew superlinearly past a few MB). On SQLite they go through ``executemany``, which the driver runs as a loop over one prepared
statement without network round trips.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    and_,
    any_,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from letta_batch import json_codec
from letta_batch.repositories.staging import Row, copy_rows, stage_rows


def dialect_name(session: AsyncSession) -> str:
    """``"postgresql"`` or ``"sqlite"``."""
    return session.get_bind().dialect.name


def in_values(
    column_: ColumnElement[Any],
    values: Iterable[Any],
    dialect: str,
    *,
    type_: TypeEngine[Any] | None = None,
) -> ColumnElement[bool]:
    """``column IN values`` as ONE bind parameter, so it has no parameter-count limit.

    PostgreSQL: ``column = ANY(:array)`` (asyncpg sends the list as one array value).
    SQLite: ``column IN (SELECT value FROM json_each(:json))``. A plain expanding ``IN``
    would need one parameter per value and hit asyncpg's 32,767 / SQLite's 32,766 limit.
    """
    items = list(values)
    if dialect == "postgresql":
        array_type = postgresql.ARRAY(type_ if type_ is not None else String())
        return column_ == any_(bindparam(None, items, type_=array_type))
    each = func.json_each(json_codec.dumps(items)).table_valued("value")
    return column_.in_(select(each.c.value))


def _insert(dialect: str, table: Table) -> Any:
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported dialect {dialect!r}")


def _uniform(rows: Sequence[Row]) -> list[Row]:
    keys = rows[0].keys()
    for r in rows:
        if r.keys() != keys:
            raise ValueError(f"bulk rows must share their keys: {sorted(keys)} vs {sorted(r)}")
    return list(rows)


async def _execute_insert(session: AsyncSession, table: Table, rows: list[Row], build: Any) -> None:
    dialect = dialect_name(session)
    stmt = _insert(dialect, table)
    if dialect == "postgresql":
        src = await stage_rows(session, table, rows)
        keys = list(rows[0])
        # ORDER BY: sequence/identity values follow the caller's row order
        query = select(*[src.c[k] for k in keys]).order_by(src.c._ord)
        await session.execute(build(stmt.from_select(keys, query)))
    else:
        await session.execute(build(stmt), rows)


async def insert_rows(session: AsyncSession, table: Table, rows: Sequence[Row]) -> None:
    """Plain insert of many new rows (a clash fails the transaction): ``COPY`` on
    PostgreSQL, ``executemany`` on SQLite. One statement; nothing is sent for an empty list."""
    if not rows:
        return
    data = _uniform(rows)
    if dialect_name(session) == "postgresql":
        await copy_rows(session, table.name, {c.name: c.type for c in table.c}, data)
    else:
        await session.execute(table.insert(), data)


async def insert_row_stream(
    session: AsyncSession, table: Table, rows: Iterator[Row], keys: Sequence[str]
) -> None:
    """Plain insert of the new rows an iterator produces, each with exactly ``keys``.

    PostgreSQL: one ``COPY`` that consumes the iterator as it sends, so a caller that
    builds rows one by one never holds them all, and the database writes them meanwhile.
    SQLite: the rows are gathered, then one ``executemany``.
    """
    checked = _with_keys(rows, keys)
    if dialect_name(session) == "postgresql":
        types = {c.name: c.type for c in table.c}
        await copy_rows(session, table.name, types, checked, keys=keys)
        return
    data = list(checked)
    if data:
        await session.execute(table.insert(), data)


def _with_keys(rows: Iterator[Row], keys: Sequence[str]) -> Iterator[Row]:
    expected = set(keys)
    for row in rows:
        if row.keys() != expected:
            raise ValueError(
                f"bulk rows must share their keys: {sorted(expected)} vs {sorted(row)}"
            )
        yield row


async def insert_ignore(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Row],
    *,
    conflict_columns: Collection[str] | None = None,
) -> None:
    """Insert ``rows``; rows that hit a unique constraint are skipped (``ON CONFLICT DO NOTHING``).

    ``conflict_columns`` names the unique constraint to arbitrate on; by default any
    constraint counts. One statement; nothing is sent for an empty list.
    """
    if not rows:
        return
    elements = list(conflict_columns) if conflict_columns else None
    await _execute_insert(
        session, table, _uniform(rows), lambda s: s.on_conflict_do_nothing(index_elements=elements)
    )


async def upsert(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Row],
    *,
    conflict_columns: Collection[str],
    update_columns: Collection[str] | None = None,
) -> None:
    """Insert ``rows``, updating the existing row on a ``conflict_columns`` clash.

    ``update_columns`` (default: every given column except the conflict and primary-key
    columns and ``created_at``) are set from the incoming row. Rows repeating a conflict key
    collapse to the last one (as sequential writes would). One statement.
    """
    if not rows:
        return
    data = _uniform(rows)
    keys = list(conflict_columns)
    data = list({tuple(r[k] for k in keys): r for r in data}.values())
    if update_columns is None:
        skip = set(keys) | {c.name for c in table.primary_key} | {"created_at"}
        update_columns = [k for k in data[0] if k not in skip]
    columns = list(update_columns)

    def build(stmt: Any) -> Any:
        if not columns:
            return stmt.on_conflict_do_nothing(index_elements=keys)
        return stmt.on_conflict_do_update(
            index_elements=keys, set_={name: stmt.excluded[name] for name in columns}
        )

    await _execute_insert(session, table, data, build)


async def update_rows(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Row],
    *,
    key_columns: Collection[str] = ("id",),
    organization_id: str | None = None,
    lookup: Sequence[str] | None = None,
) -> None:
    """``UPDATE table SET <other columns> WHERE <key columns> match`` for every row, in ONE
    statement. With ``organization_id`` only that organization's rows can change.

    ``lookup`` names the key columns PostgreSQL finds the rows by, through an index that
    starts with them (default: the first key column); see :func:`_found_by_index`."""
    if not rows:
        return
    data = _uniform(rows)
    keys = list(key_columns)
    values = [k for k in data[0] if k not in keys]
    org_clause = [] if organization_id is None else [table.c.organization_id == organization_id]
    if dialect_name(session) == "postgresql":
        rs = await stage_rows(session, table, data)
        stmt = (
            update(table)
            .where(
                and_(
                    *[table.c[k] == rs.c[k] for k in keys],
                    *_found_by_index(table, rs, lookup or keys[:1]),
                    *org_clause,
                )
            )
            .values({k: rs.c[k] for k in values})
        )
        await session.execute(stmt)
        return
    stmt = (
        update(table)
        .where(and_(*[table.c[k] == bindparam(f"k_{k}") for k in keys], *org_clause))
        .values({k: bindparam(f"v_{k}", type_=table.c[k].type) for k in values})
    )
    await session.execute(
        stmt, [{**{f"k_{k}": r[k] for k in keys}, **{f"v_{k}": r[k] for k in values}} for r in data]
    )


def _found_by_index(table: Table, stage: Table, lookup: Sequence[str]) -> list[ColumnElement[bool]]:
    """``column = ANY(ARRAY(SELECT column FROM stage))`` for each ``lookup`` column.

    Joined to the stage by equality alone, the rows to change were found by a hash join over
    a sequential scan of the whole table: the stage, a fresh temporary table, has no
    statistics, and the planner took it for five times its size. Each chunk of a step then
    read every row of ``llm_batch_items`` (every job's, and every earlier step's) to change
    10,000 of them, so the cost grew with the table's history instead of the chunk, and a
    step of N agents cost N² / chunk. The array of the staged keys, computed once before the
    scan, makes PostgreSQL look the rows up in the index on those columns.

    The lookup columns' distinct values are combined, so a second column belongs there only
    when the first has few values (``job_id`` before ``agent_id``).
    """
    return [table.c[k] == any_(func.array(select(stage.c[k]).scalar_subquery())) for k in lookup]


async def delete_rows(
    session: AsyncSession, table: Table, rows: Sequence[Row], *, key_columns: Collection[str]
) -> None:
    """Delete the rows whose ``key_columns`` match one of ``rows``, in ONE statement
    (PostgreSQL finds them by the index on the first key column: :func:`_found_by_index`)."""
    if not rows:
        return
    keys = list(key_columns)
    data = [{k: r[k] for k in keys} for r in rows]
    if dialect_name(session) == "postgresql":
        rs = await stage_rows(session, table, data)
        await session.execute(
            delete(table).where(
                and_(*[table.c[k] == rs.c[k] for k in keys], *_found_by_index(table, rs, keys[:1]))
            )
        )
        return
    stmt = delete(table).where(and_(*[table.c[k] == bindparam(f"k_{k}") for k in keys]))
    await session.execute(stmt, [{f"k_{k}": r[k] for k in keys} for r in data])
