"""Run the Alembic migrations programmatically (no ``alembic.ini``).

The Alembic configuration is built in code from the package's ``migrations`` directory and
the async database URL. Migrations are the only way the schema is created (tests included).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from letta_batch.db.engine import create_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

T = TypeVar("T")


def make_config(url: str) -> Config:
    """An Alembic ``Config`` for ``url`` pointing at this package's migration scripts."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation treats '%' specially (URL-encoded passwords contain it).
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """The newest revision id shipped with the package."""
    head = ScriptDirectory.from_config(make_config("sqlite://")).get_current_head()
    assert head is not None
    return head


async def _with_connection(url: str, fn: Callable[[Connection], T]) -> T:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            result = await conn.run_sync(fn)
            await conn.commit()
            return result
    finally:
        await engine.dispose()


def _runner(url: str, action: Callable[[Config, str], None], revision: str) -> Any:
    def run(connection: Connection) -> None:
        cfg = make_config(url)
        # env.py uses this connection instead of opening its own.
        cfg.attributes["connection"] = connection
        action(cfg, revision)

    return run


async def upgrade_async(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision`` (default: the newest)."""
    await _with_connection(url, _runner(url, command.upgrade, revision))


async def downgrade_async(url: str, revision: str = "base") -> None:
    """Downgrade the database at ``url`` to ``revision`` (default: empty schema)."""
    await _with_connection(url, _runner(url, command.downgrade, revision))


async def current_revision_async(url: str) -> str | None:
    """The revision the database is at (None when never migrated)."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    return await _with_connection(url, read)


def _run_sync(coro_factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro_factory())
    # Called from inside an event loop (e.g. a notebook): run on a private loop in a thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(coro_factory())).result()


def upgrade(url: str, revision: str = "head") -> None:
    """Blocking :func:`upgrade_async`; safe to call with or without a running event loop."""
    _run_sync(lambda: upgrade_async(url, revision))


def downgrade(url: str, revision: str = "base") -> None:
    """Blocking :func:`downgrade_async`; safe to call with or without a running event loop."""
    _run_sync(lambda: downgrade_async(url, revision))


def current_revision(url: str) -> str | None:
    """Blocking :func:`current_revision_async`."""
    return _run_sync(lambda: current_revision_async(url))
