"""Shared database fixtures (real PostgreSQL and SQLite; schemas come from the migrations).

* ``pg_admin_url``: the maintenance database URL (``LETTA_BATCH_TEST_PG`` overrides the
  ``host:port``, default ``127.0.0.1:5432``; a full ``postgresql://…`` URL is accepted too).
* ``pg_url``: a fresh database ``lbtest_<hex8>`` for the whole session, migrated to head with
  Alembic, dropped at the end. Tests never touch any other database.
* ``pg_db_factory``: an async callable returning the URL of another fresh migrated database
  (dropped at test teardown) for tests that need isolation.
* ``engine`` / ``session_factory``: on ``pg_url`` (session scope).
* ``org_id``: a new organization per test (the row exists), so tests sharing the session
  database never see each other's rows.
* ``sqlite_url`` (not migrated) / ``sqlite_migrated_url``: a SQLite file under ``tmp_path``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from letta_batch import ids
from letta_batch.db import create_engine, migrate
from letta_batch.db import session_factory as make_session_factory
from letta_batch.devtools.scratch_db import create_database, database_url, drop_database
from letta_batch.repositories import ensure_organization

PgDbFactory = Callable[..., Awaitable[str]]
"""``await pg_db_factory()`` → URL of a fresh migrated database; ``migrate_to=None`` leaves
it empty (no schema)."""


_PREFIX = "lbtest_"


def _url(database: str, driver: str = "postgresql+asyncpg") -> str:
    return database_url(database, driver=driver)


async def create_test_database(migrate_to: str | None = "head") -> tuple[str, str]:
    """Create ``lbtest_<hex8>`` (migrated to ``migrate_to`` unless None); (name, async URL)."""
    return await create_database(_PREFIX, migrate_to)


async def drop_test_database(name: str) -> None:
    """Terminate the database's connections, then drop it (only ``lbtest_*`` names)."""
    await drop_database(name, _PREFIX)


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    return _url("postgres")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def pg_url() -> AsyncIterator[str]:
    name, url = await create_test_database()
    try:
        yield url
    finally:
        await drop_test_database(name)


@pytest_asyncio.fixture(loop_scope="session")
async def pg_db_factory() -> AsyncIterator[PgDbFactory]:
    created: list[str] = []

    async def factory(migrate_to: str | None = "head") -> str:
        name, url = await create_test_database(migrate_to)
        created.append(name)
        return url

    try:
        yield factory
    finally:
        for name in created:
            await drop_test_database(name)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(pg_url)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture(scope="session")
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_session_factory(engine)


@pytest_asyncio.fixture(loop_scope="session")
async def org_id(session_factory: async_sessionmaker[AsyncSession]) -> str:
    org = ids.new_id(ids.ORGANIZATION)
    async with session_factory() as session, session.begin():
        await ensure_organization(session, org, f"test {org[-8:]}")
    return org


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'letta-batch.db'}"


@pytest_asyncio.fixture(loop_scope="session")
async def sqlite_migrated_url(sqlite_url: str) -> str:
    await migrate.upgrade_async(sqlite_url)
    return sqlite_url
