"""``letta-batch db upgrade/downgrade`` on PostgreSQL and SQLite via DATABASE_URL."""

from __future__ import annotations

import asyncio

from sqlalchemy import inspect

from letta_batch.db import create_engine, migrate
from tests.cli.storage_app import run


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


def _check_round_trip(url: str) -> None:
    """Runs without an event loop in its thread (the CLI starts its own)."""
    env = {"DATABASE_URL": url}
    code, out = run(env, "db", "upgrade")
    assert code == 0, out
    assert f"at revision {migrate.head_revision()}" in out
    assert "agents" in asyncio.run(_tables(url))

    code, out = run(env, "db", "downgrade", "--revision", "base")
    assert code == 0, out
    assert "at revision base" in out
    assert asyncio.run(_tables(url)) == {"alembic_version"}

    code, out = run(env, "db", "upgrade", "--revision", "head")
    assert code == 0, out
    assert migrate.current_revision(url) == migrate.head_revision()
    code, out = run(env, "db", "current")
    head = migrate.head_revision()
    assert code == 0 and f"at revision {head} (head {head})" in out


def test_db_cli_sqlite(sqlite_url: str) -> None:
    _check_round_trip(sqlite_url)


async def test_db_cli_postgres(pg_db_factory) -> None:
    url = await pg_db_factory(migrate_to=None)
    await asyncio.to_thread(_check_round_trip, url)


def test_db_cli_default_is_embedded_sqlite(tmp_path) -> None:
    state = tmp_path / "state"
    code, out = run({"LETTA_BATCH_STATE_DIR": str(state), "DATABASE_URL": ""}, "db", "upgrade")
    assert code == 0, out
    assert (state / "letta-batch.db").exists()


def test_unknown_revision_fails(sqlite_url: str) -> None:
    code, out = run({"DATABASE_URL": sqlite_url}, "db", "upgrade", "--revision", "nope")
    assert code == 1
    assert "upgrade failed" in out
