"""Engine settings and the statement counter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select, text

from letta_batch.db import StatementCounter, create_engine
from letta_batch.db import models as m


async def test_sqlite_pragmas_and_parent_dir(tmp_path) -> None:
    path = tmp_path / "deep" / "er" / "db.sqlite"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
    finally:
        await engine.dispose()
    assert path.exists()


async def test_statement_counter_counts_executemany_once(sqlite_migrated_url: str) -> None:
    engine = create_engine(sqlite_migrated_url)
    try:
        rows = [{"id": f"org-{i}", "name": f"o{i}"} for i in range(500)]
        async with engine.begin() as conn:
            with StatementCounter(engine) as counter:
                await conn.execute(m.organizations.insert(), rows)
                await conn.execute(select(m.organizations.c.id))
        assert counter.count == 2
        assert counter.transaction_control == 0  # BEGIN was issued before the block
        assert counter.statements[0].startswith("INSERT INTO organizations")
    finally:
        await engine.dispose()


async def test_datetimes_come_back_aware_utc(
    sqlite_migrated_url: str, session_factory, org_id
) -> None:
    paris = timezone(timedelta(hours=2))
    stamp = datetime(2025, 6, 1, 12, 0, tzinfo=paris)
    for url in (sqlite_migrated_url, None):
        engine = create_engine(url) if url else session_factory.kw["bind"]
        try:
            async with engine.begin() as conn:
                oid = f"org-dt-{url is None}-{org_id}"
                await conn.execute(
                    m.organizations.insert(), {"id": oid, "name": "x", "created_at": stamp}
                )
                got = (
                    await conn.execute(
                        select(m.organizations.c.created_at).where(m.organizations.c.id == oid)
                    )
                ).scalar_one()
        finally:
            if url:
                await engine.dispose()
        assert got.tzinfo is not None
        assert got == stamp
        assert got.utcoffset() == UTC.utcoffset(None)
