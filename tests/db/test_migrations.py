"""Alembic migrations: up, down to base, up again, on PostgreSQL and SQLite; the migrated
schema matches the ORM models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from letta_batch.db import create_engine, migrate
from letta_batch.db.models import Base

EXPECTED_TABLES = {
    "organizations",
    "agents",
    "blocks",
    "agents_blocks",
    "tools",
    "agents_tools",
    "messages",
    "passages",
    "batch_jobs",
    "batch_job_agents",
    "batch_job_inputs",
    "llm_batch_jobs",
    "llm_batch_items",
    "tool_executions",
}


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def _diff(url: str) -> list:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata
                )
            )
    finally:
        await engine.dispose()


async def _round_trip(url: str) -> None:
    await migrate.upgrade_async(url)
    assert await migrate.current_revision_async(url) == migrate.head_revision()
    assert await _tables(url) == EXPECTED_TABLES | {"alembic_version"}

    await migrate.downgrade_async(url, "base")
    assert await migrate.current_revision_async(url) is None
    assert await _tables(url) == {"alembic_version"}

    await migrate.upgrade_async(url)
    assert await _tables(url) == EXPECTED_TABLES | {"alembic_version"}


async def test_round_trip_postgres(pg_db_factory) -> None:
    url = await pg_db_factory(migrate_to=None)
    assert await _tables(url) == set()
    await _round_trip(url)


async def test_round_trip_sqlite(sqlite_url: str) -> None:
    await _round_trip(sqlite_url)


@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression")
async def test_migrated_schema_matches_models_sqlite(sqlite_migrated_url: str) -> None:
    assert await _diff(sqlite_migrated_url) == []


async def test_migrated_schema_matches_models_postgres(pg_url: str) -> None:
    assert await _diff(pg_url) == []


async def test_postgres_has_search_indexes_and_identity(pg_url: str) -> None:
    engine = create_engine(pg_url)
    try:
        async with engine.connect() as conn:
            indexes = set(
                (
                    await conn.execute(
                        text(
                            "SELECT indexname FROM pg_indexes WHERE tablename IN ('messages', 'passages')"
                        )
                    )
                ).scalars()
            )
            identity = (
                await conn.execute(
                    text(
                        "SELECT is_identity FROM information_schema.columns "
                        "WHERE table_name = 'messages' AND column_name = 'sequence_id'"
                    )
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    assert {"ix_messages_search_text_tsv", "ix_passages_text_tsv"} <= indexes
    assert identity == "YES"


def test_blocking_api_outside_event_loop(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'sync.db'}"
    migrate.upgrade(url)
    assert migrate.current_revision(url) == migrate.head_revision()
    migrate.downgrade(url)
    assert migrate.current_revision(url) is None


async def test_blocking_api_inside_event_loop(tmp_path) -> None:
    # upgrade() must also work when called from async code (runs on a private loop).
    url = f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'dir' / 'x.db'}"
    migrate.upgrade(url)
    assert await migrate.current_revision_async(url) == migrate.head_revision()
