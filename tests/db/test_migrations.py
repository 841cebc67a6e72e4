"""Alembic migrations: up, down to base, up again, on PostgreSQL and SQLite; the migrated
schema matches the ORM models."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import JSON, MetaData, inspect, text
from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch.db import create_engine, migrate
from letta_batch.db.models import Base
from letta_batch.db.models_batch import LLMBatchItemRow
from letta_batch.db.unmapped import include_object
from letta_batch.repositories.bulk import update_rows

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
    "llm_batch_parts",
    "llm_batch_items",
    "tool_executions",
    "request_tool_sets",
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
                    MigrationContext.configure(
                        c, opts={"compare_type": True, "include_object": include_object}
                    ),
                    Base.metadata,
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
    assert {"ix_messages_search_vector", "ix_passages_search_vector"} <= indexes
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


def _filler(column) -> object:
    """A value for a NOT NULL column without a default (only the row's existence matters)."""
    python_type = column.type.python_type if not isinstance(column.type, JSON) else dict
    return {str: "x", int: 0, bool: False, dict: {}, list: []}.get(
        python_type, datetime(2026, 1, 1, tzinfo=UTC)
    )


async def _seed_item(engine, overrides: dict[str, dict[str, object]]) -> None:
    """One row per table an item references, then the item; every required column filled,
    each row's id its table's name, ``overrides`` per table on top."""
    async with engine.begin() as conn:
        meta = MetaData()
        await conn.run_sync(lambda c: meta.reflect(c))
        for name in ["organizations", "agents", "batch_jobs", "llm_batch_jobs", "llm_batch_items"]:
            table = meta.tables[name]
            row = {
                c.name: _filler(c)
                for c in table.columns
                if not c.nullable and c.server_default is None and not c.identity
            }
            row["id"] = name
            for c in table.columns:
                for fk in c.foreign_keys:
                    row[c.name] = fk.column.table.name
            row.update(overrides.get(name, {}))
            await conn.execute(table.insert().values(row))


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
async def test_0002_converts_request_params_to_bytes_and_back(
    dialect, pg_db_factory, sqlite_url
) -> None:
    url = await pg_db_factory(migrate_to=None) if dialect == "postgresql" else sqlite_url
    await migrate.upgrade_async(url, "0001")
    params = {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "héllo"}]}
    engine = create_engine(url)
    try:
        await _seed_item(engine, {"llm_batch_items": {"request_params": params}})
        await migrate.upgrade_async(url)
        async with engine.connect() as conn:
            body = (await conn.execute(text("SELECT request_body FROM llm_batch_items"))).scalar()
        assert json.loads(bytes(body)) == params
        await migrate.downgrade_async(url, "0001")
        async with engine.connect() as conn:
            back = (await conn.execute(text("SELECT request_params FROM llm_batch_items"))).scalar()
        assert (json.loads(back) if isinstance(back, str) else back) == params
    finally:
        await engine.dispose()


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
async def test_0004_moves_provider_state_into_part_zero_and_back(
    dialect, pg_db_factory, sqlite_url
) -> None:
    url = await pg_db_factory(migrate_to=None) if dialect == "postgresql" else sqlite_url
    await migrate.upgrade_async(url, "0003")
    intent = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    created = {"id": "msgbatch_1", "processing_status": "in_progress"}
    engine = create_engine(url)
    try:
        await _seed_item(
            engine,
            {
                "llm_batch_jobs": {
                    "status": "in_progress",
                    "provider_batch_id": "msgbatch_1",
                    "request_count": 1,
                    "intent_at": intent,
                    "create_batch_response": created,
                }
            },
        )
        await migrate.upgrade_async(url)
        async with engine.connect() as conn:
            part = (await conn.execute(text("SELECT * FROM llm_batch_parts"))).mappings().one()
            item_part = (await conn.execute(text("SELECT part FROM llm_batch_items"))).scalar()
        assert (part["llm_batch_id"], part["part"], part["status"]) == (
            "llm_batch_jobs",
            0,
            "in_progress",
        )
        assert (part["provider_batch_id"], part["request_count"]) == ("msgbatch_1", 1)
        stored = part["create_batch_response"]
        assert (json.loads(stored) if isinstance(stored, str) else stored) == created
        assert item_part == 0

        async with engine.begin() as conn:  # a split step cannot go back to one batch
            await conn.execute(
                text(
                    "INSERT INTO llm_batch_parts (llm_batch_id, part, organization_id, status, "
                    "request_count, request_bytes) VALUES ('llm_batch_jobs', 1, 'o', 'ended', 1, 9)"
                )
            )
        with pytest.raises(RuntimeError, match="several provider batches"):
            await migrate.downgrade_async(url, "0003")
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM llm_batch_parts WHERE part = 1"))

        await migrate.downgrade_async(url, "0003")
        async with engine.connect() as conn:
            back = (
                (
                    await conn.execute(
                        text("SELECT intent_at, provider_batch_id FROM llm_batch_jobs")
                    )
                )
                .mappings()
                .one()
            )
        assert back["provider_batch_id"] == "msgbatch_1"
        assert back["intent_at"] is not None
        async with engine.connect() as conn:  # the items survived both directions
            assert (await conn.execute(text("SELECT count(*) FROM llm_batch_items"))).scalar() == 1
    finally:
        await engine.dispose()


async def test_large_step_columns_use_lz4_on_postgres(pg_url: str) -> None:
    engine = create_engine(pg_url)
    try:
        async with engine.connect() as conn:
            methods = (
                await conn.execute(
                    text(
                        "SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'"
                    )
                )
            ).scalar()
            rows = (
                await conn.execute(
                    text(
                        "SELECT c.relname, a.attname, a.attcompression FROM pg_attribute a "
                        "JOIN pg_class c ON c.oid = a.attrelid "
                        "WHERE (c.relname, a.attname) IN (('llm_batch_items', 'request_body'), "
                        "('messages', 'content'), ('llm_batch_items', 'decision'), "
                        "('llm_batch_items', 'context_turns'))"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    expected = "l" if "lz4" in (methods or []) else ""
    # attcompression is a "char": asyncpg returns bytes (b"l" for lz4, b"" for the default)
    assert sorted(bytes(r.attcompression).decode().strip("\x00") for r in rows) == [expected] * 4


async def _hot_updates_of_one_item(engine) -> tuple[int, int]:
    """Update the seeded item the way collect/decide/persist do (``update_rows``, three times)
    and return (updates, HOT updates) they made to ``llm_batch_items``."""
    counters = text(
        "SELECT pg_stat_get_xact_tuples_updated(c.oid), pg_stat_get_xact_tuples_hot_updated(c.oid)"
        " FROM pg_class c WHERE c.relname = 'llm_batch_items'"
    )
    async with AsyncSession(engine) as session, session.begin():
        # The backend's counters may still hold earlier transactions' counts: take a delta.
        before = (await session.execute(counters)).one()
        for status in ("decided", "tools_done", "completed"):
            await update_rows(
                session,
                LLMBatchItemRow.__table__,
                [{"id": "llm_batch_items", "step_status": status, "decision": {"s": status}}],
            )
        after = (await session.execute(counters)).one()
    return int(after[0] - before[0]), int(after[1] - before[1])


async def test_0005_item_updates_are_hot_and_downgrade_restores_the_indexes(pg_db_factory) -> None:
    url = await pg_db_factory(migrate_to=None)
    await migrate.upgrade_async(url, "0005")
    engine = create_engine(url)
    try:
        await _seed_item(engine, {})  # written after 0005, on a page with room to spare
        assert await _hot_updates_of_one_item(engine) == (3, 3)
        async with engine.connect() as conn:
            options = dict(
                (await conn.execute(text(
                    "SELECT relname, reloptions FROM pg_class WHERE relname IN "
                    "('llm_batch_items', 'tool_executions', 'agents')"
                ))).all()
            )  # fmt: skip
        assert options == {
            "llm_batch_items": ["fillfactor=50"],
            "tool_executions": ["fillfactor=30"],
            "agents": ["fillfactor=50"],
        }
        await migrate.downgrade_async(url, "0004")
        # Indexed status columns again: no update can be HOT.
        assert await _hot_updates_of_one_item(engine) == (3, 0)
    finally:
        await engine.dispose()


async def test_0006_stores_the_search_vectors_and_downgrade_restores_the_expression_indexes(
    pg_db_factory,
) -> None:
    url = await pg_db_factory(migrate_to=None)
    await migrate.upgrade_async(url, "0005")
    engine = create_engine(url)
    vectors_match = (
        "SELECT bool_and(search_vector = to_tsvector('english', coalesce(search_text, ''))), "
        "count(*) FROM messages"
    )
    indexes = (
        "SELECT indexname FROM pg_indexes WHERE tablename IN ('messages', 'passages') "
        "AND indexdef LIKE '%USING gin%' ORDER BY 1"
    )
    try:
        await _seed_item(engine, {})
        async with engine.begin() as conn:
            for i, search_text in enumerate(["I like green tea", None]):
                await conn.execute(
                    text(
                        "INSERT INTO messages (id, organization_id, agent_id, role, content, "
                        "search_text) VALUES (:id, 'organizations', 'agents', 'user', '[]', :t)"
                    ),
                    {"id": f"before-{i}", "t": search_text},
                )
            await conn.execute(
                text(
                    "INSERT INTO passages (id, organization_id, agent_id, text, tags) "
                    "VALUES ('p', 'organizations', 'agents', 'Teas of the world', '[]')"
                )
            )
        await migrate.upgrade_async(url, "0006")
        async with engine.begin() as conn:
            # Rows written before the upgrade got their vector; new rows get theirs on insert.
            await conn.execute(
                text(
                    "INSERT INTO messages (id, organization_id, agent_id, role, content, "
                    "search_text) VALUES ('after', 'organizations', 'agents', 'user', '[]', "
                    "'teapots')"
                )
            )
            assert (await conn.execute(text(vectors_match))).one() == (True, 3)
            passage = "SELECT search_vector = to_tsvector('english', text) FROM passages"
            assert (await conn.execute(text(passage))).scalar_one() is True
            assert list((await conn.execute(text(indexes))).scalars()) == [
                "ix_messages_search_vector",
                "ix_passages_search_vector",
            ]
        await migrate.downgrade_async(url, "0005")
        async with engine.connect() as conn:
            assert list((await conn.execute(text(indexes))).scalars()) == [
                "ix_messages_search_text_tsv",
                "ix_passages_text_tsv",
            ]
            columns = (
                "SELECT count(*) FROM information_schema.columns "
                "WHERE column_name = 'search_vector'"
            )
            assert (await conn.execute(text(columns))).scalar_one() == 0
    finally:
        await engine.dispose()


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
async def test_0007_keeps_old_bodies_and_downgrade_puts_the_tools_back(
    dialect, pg_db_factory, sqlite_url
) -> None:
    url = await pg_db_factory(migrate_to=None) if dialect == "postgresql" else sqlite_url
    await migrate.upgrade_async(url, "0006")
    whole = b'{"model":"m","tool_choice":{"type":"any"},"tools":[{"name":"t\xc3\xa9"}],"system":[]}'
    engine = create_engine(url)
    try:
        await _seed_item(engine, {"llm_batch_items": {"request_body": whole}})
        await migrate.upgrade_async(url)
        async with engine.connect() as conn:
            old = (
                await conn.execute(
                    text(
                        "SELECT request_body, request_tools_id, request_tools_at FROM llm_batch_items"
                    )
                )
            ).one()
        assert (bytes(old[0]), old[1], old[2]) == (whole, None, None)  # written before: whole

        tools = b'[{"name":"t\xc3\xa9"}]'
        at = whole.index(b'"tools":') + len(b'"tools":')
        split = whole[:at] + whole[at + len(tools) :]
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO request_tool_sets (id, llm_batch_id, tools) "
                    "VALUES ('ts', 'llm_batch_jobs', :tools)"
                ),
                {"tools": tools},
            )
            await conn.execute(
                text(
                    "UPDATE llm_batch_items SET request_body = :body, request_tools_id = 'ts', "
                    "request_tools_at = :at"
                ),
                {"body": split, "at": at},
            )
        await migrate.downgrade_async(url, "0006")
        async with engine.connect() as conn:
            back = (await conn.execute(text("SELECT request_body FROM llm_batch_items"))).scalar()
        assert bytes(back) == whole
    finally:
        await engine.dispose()
