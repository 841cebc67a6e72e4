"""Generic bulk helpers on both dialects."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from letta_batch.db import StatementCounter, create_engine, session_factory
from letta_batch.db import models as m
from letta_batch.repositories import dialect_name, in_values, insert_ignore, upsert


@pytest.fixture(params=["postgresql", "sqlite"])
async def bulk_engine(request, pg_db_factory, sqlite_migrated_url):
    url = await pg_db_factory() if request.param == "postgresql" else sqlite_migrated_url
    engine = create_engine(url)
    yield engine
    await engine.dispose()


async def test_insert_ignore_upsert_and_in_values(bulk_engine) -> None:
    factory = session_factory(bulk_engine)
    orgs = m.organizations
    rows = [{"id": f"org-{i:05d}", "name": f"n{i}"} for i in range(40_000)]
    async with factory() as session, session.begin():
        with StatementCounter(bulk_engine) as counter:
            await insert_ignore(session, orgs, rows)
            await insert_ignore(session, orgs, [*rows[:10], {"id": "org-new", "name": "new"}])
            await upsert(
                session, orgs, [{"id": "org-00001", "name": "renamed"}], conflict_columns=["id"]
            )
            # 40k values in ONE bound parameter: no driver parameter limit, one statement
            found = (
                (
                    await session.execute(
                        select(orgs.c.id).where(
                            in_values(orgs.c.id, [r["id"] for r in rows], dialect_name(session))
                        )
                    )
                )
                .scalars()
                .all()
            )
        # SQLite: one executemany per write; PostgreSQL: stage, COPY and write per bulk write
        assert counter.count == (4 if dialect_name(session) == "sqlite" else 10)
    assert len(found) == 40_000
    async with factory() as session:
        names = dict((await session.execute(select(orgs.c.id, orgs.c.name))).all())
    assert len(names) == 40_001
    assert names["org-00001"] == "renamed" and names["org-00002"] == "n2"


async def test_rows_must_share_keys(bulk_engine) -> None:
    async with session_factory(bulk_engine)() as session:
        with pytest.raises(ValueError, match="share their keys"):
            await insert_ignore(session, m.organizations, [{"id": "a", "name": "a"}, {"id": "b"}])
