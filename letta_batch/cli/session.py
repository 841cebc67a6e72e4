"""How the job commands get a client: connect, run, close; plus shared I/O helpers.

Commands that only read the database (``jobs``, ``messages``) and ``status`` (which falls back
to the stored state) also work while Temporal is unreachable, through :class:`OfflineClient`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import typer
from temporalio.client import Client

from letta_batch.client import LettaBatchClient
from letta_batch.config import Settings
from letta_batch.contracts import JobProgress
from letta_batch.db.engine import create_engine
from letta_batch.services.runtime import ServiceContext

T = TypeVar("T")


class OfflineClient(LettaBatchClient):
    """Database-only client for when Temporal cannot be reached: no live progress."""

    def __init__(self, settings: Settings) -> None:
        ctx = ServiceContext(engine=create_engine(settings.database_url), settings=settings)
        super().__init__(cast(Client, None), ctx)

    async def progress(self, job_id: str) -> JobProgress | None:
        return None


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` to stderr and return the ``Exit`` to raise."""
    typer.echo(message, err=True)
    return typer.Exit(code)


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))


def run(fn: Callable[[LettaBatchClient], Awaitable[T]], *, offline_ok: bool = False) -> T:
    """Connect, run ``fn`` and close. Without Temporal: exit 1, or go on offline if allowed."""

    async def main() -> T:
        settings = Settings.from_env()
        client: LettaBatchClient
        try:
            client = await LettaBatchClient.connect(settings)
        except RuntimeError as exc:  # the Temporal client raises RuntimeError on connect
            message = f"cannot reach Temporal at {settings.temporal_address}: {exc}"
            if not offline_ok:
                raise fail(message) from exc
            typer.echo(f"{message}\n(showing the stored state only)", err=True)
            client = OfflineClient(settings)
        try:
            return await fn(client)
        finally:
            await client.aclose()

    return asyncio.run(main())


def read_payload(path: Path) -> Any:
    """The CreateBatch JSON of ``path``; unreadable or malformed files exit with code 2."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise fail(f"{path}: cannot read file: {exc.strerror or exc}", 2) from exc
    except UnicodeDecodeError as exc:
        raise fail(f"{path}: invalid JSON: not UTF-8 text (byte {exc.start})", 2) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(
            f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", 2
        ) from exc
