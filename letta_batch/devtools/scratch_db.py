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


def _url(host: str, port: int, database: str, driver: str) -> str:
    return f"{driver}://postgres@{host}:{port}/{database}"


@asynccontextmanager
async def scratch_database(server: str | None = None) -> AsyncIterator[str]:
    """Yield the async SQLAlchemy URL of a fresh migrated database; drop it on exit."""
    host, port = pg_host_port(server)
    name = f"{_PREFIX}{uuid.uuid4().hex[:8]}"
    admin_url = _url(host, port, "postgres", "postgresql")
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        url = _url(host, port, name, "postgresql+asyncpg")
        await migrate.upgrade_async(url, "head")
        yield url
    finally:
        assert name.startswith(_PREFIX), name  # never drop a database we did not create
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
