"""A throw-away PostgreSQL database for developer tools (created, migrated, always dropped).

The recorder needs the production activities against a real database, but must never touch
a database someone cares about: it creates ``lbrec_<hex8>`` on the given server, migrates it
to head and drops it afterwards, refusing to drop any name it did not mint.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import asyncpg

from letta_batch.db import migrate

#: The variable the test suite uses for its server; the recorder honours it too.
PG_ENV = "LETTA_BATCH_TEST_PG"
_PREFIX = "lbrec_"


def pg_host_port(value: str | None = None) -> tuple[str, int]:
    """``host:port`` (or a ``postgresql://`` URL) → (host, port); default 127.0.0.1:5432."""
    value = value or os.environ.get(PG_ENV, "127.0.0.1:5432")
    if "://" in value:
        parts = urlsplit(value)
        return parts.hostname or "127.0.0.1", parts.port or 5432
    host, _, port = value.partition(":")
    return host or "127.0.0.1", int(port or 5432)


def database_url(
    database: str, server: str | None = None, driver: str = "postgresql+asyncpg"
) -> str:
    """URL of ``database`` on ``server`` (default: ``LETTA_BATCH_TEST_PG`` or 127.0.0.1:5432)."""
    host, port = pg_host_port(server)
    return f"{driver}://postgres@{host}:{port}/{database}"


async def create_database(
    prefix: str, migrate_to: str | None = "head", server: str | None = None
) -> tuple[str, str]:
    """Create ``<prefix><hex8>``, migrated to ``migrate_to`` unless None; (name, async URL)."""
    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(database_url("postgres", server, "postgresql"))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = database_url(name, server)
    if migrate_to is not None:
        await migrate.upgrade_async(url, migrate_to)
    return name, url


async def drop_database(name: str, prefix: str, server: str | None = None) -> None:
    """Terminate ``name``'s connections and drop it; refuses names without ``prefix`` (never
    drop a database these tools did not create)."""
    if not name.startswith(prefix):
        raise ValueError(f"name: refusing to drop {name!r}, not a {prefix}* scratch database")
    conn = await asyncpg.connect(database_url("postgres", server, "postgresql"))
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@asynccontextmanager
async def scratch_database(server: str | None = None) -> AsyncIterator[str]:
    """Yield the async SQLAlchemy URL of a fresh migrated database; drop it on exit."""
    name, url = await create_database(_PREFIX, "head", server)
    try:
        yield url
    finally:
        await drop_database(name, _PREFIX, server)
