"""Async engine construction and a SQL statement counter.

One function builds engines for both supported backends so the rest of the code never
branches on the URL: PostgreSQL through asyncpg (production) and SQLite through aiosqlite
(the embedded default).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)
from sqlalchemy.ext.asyncio import (
    create_async_engine as _create_async_engine,
)

from letta_batch import json_codec

log = logging.getLogger(__name__)

#: How long a SQLite writer waits for the lock before failing (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_file(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy (see _on_begin) instead of pysqlite's
        # implicit, statement-sniffing BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")  # off by default in SQLite; cascades need it
        cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, much faster commits
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front. With deferred transactions two sessions
        # that both read and then write deadlock, and SQLite fails one of them at once
        # (SQLITE_BUSY) without honouring busy_timeout; IMMEDIATE makes the second wait.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, *, echo: bool = False, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``url`` (``postgresql+asyncpg://…`` or ``sqlite+aiosqlite:///…``).

    SQLite: foreign keys on, WAL, a busy timeout, ``BEGIN IMMEDIATE`` transactions, and the
    database file's parent directory is created. PostgreSQL: a bounded pool with
    ``pool_pre_ping`` so connections dropped by a server restart are replaced transparently.
    Extra keyword arguments go to SQLAlchemy's ``create_async_engine``.
    """
    # orjson for JSON/JSONB columns: request params, results and step state are a few KB
    # per agent per step, and the standard library's codec dominated those phases.
    kwargs.setdefault("json_serializer", json_codec.dumps)
    kwargs.setdefault("json_deserializer", json_codec.loads)
    if is_sqlite(url):
        path = _sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("pool_pre_ping", True)
        engine = _create_async_engine(url, echo=echo, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_recycle", 1800)  # below typical proxy/LB idle timeouts
    kwargs.setdefault("pool_timeout", 30)
    return _create_async_engine(url, echo=echo, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (no lazy reloads in async code)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


class StatementCounter:
    """Counts SQL statements an engine sends to the database while the block runs.

    One ``executemany`` counts as one statement (the driver pipelines it as a single
    operation), as does a multi-row ``INSERT … VALUES``. Transaction control (``BEGIN`` issued
    by the SQLite engine) is counted separately in ``transaction_control``.

    Usage::

        with StatementCounter(engine) as counter:
            await do_work()
        assert counter.count == 4
    """

    def __init__(self, engine: AsyncEngine | Engine) -> None:
        self._engine: Engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
        self._lock = threading.Lock()
        self.count = 0
        """Statements executed (excluding transaction control)."""
        self.transaction_control = 0
        """``BEGIN``/``SAVEPOINT``-style statements seen."""
        self.statements: list[str] = []
        """The SQL text of every counted statement, in order."""

    def _on_execute(
        self,
        conn: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        head = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        with self._lock:
            if head in {"BEGIN", "SAVEPOINT", "RELEASE", "COMMIT", "ROLLBACK"}:
                self.transaction_control += 1
                return
            self.count += 1
            self.statements.append(statement)

    def __enter__(self) -> StatementCounter:
        event.listen(self._engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        event.remove(self._engine, "before_cursor_execute", self._on_execute)
