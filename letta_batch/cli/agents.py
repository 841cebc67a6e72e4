"""``letta-batch agents``: load agent/tool definition files, list agents."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from letta_batch.config import Settings
from letta_batch.db import create_engine, migrate, session_factory
from letta_batch.definitions import (
    DefinitionError,
    LoadResult,
    load_definitions,
    read_definitions_file,
)
from letta_batch.repositories import list_agents

agents_app = typer.Typer(help="Agent and tool definitions.", no_args_is_help=True)

_out = Console()
_err = Console(stderr=True)
_STYLE = {"created": "green", "updated": "yellow", "unchanged": "dim"}


async def _require_schema(url: str) -> None:
    if await migrate.current_revision_async(url) is None:
        _err.print("[red]the database has no schema;[/red] run `letta-batch db upgrade` first")
        raise typer.Exit(1)


async def _load(url: str, org_id: str, raw: Any, reset_memory: bool) -> LoadResult:
    await _require_schema(url)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            return await load_definitions(session, org_id, raw, reset_memory=reset_memory)
    finally:
        await engine.dispose()


def _render(result: LoadResult) -> Table:
    table = Table(title="Loaded definitions")
    for column in ("kind", "name", "id", "status"):
        table.add_column(column, overflow="fold")
    for kind, entries in (
        ("tool", [e for e in result.tools if not e.builtin]),
        ("agent", result.agents),
    ):
        for e in entries:
            style = _STYLE[e.status]
            table.add_row(kind, e.name, e.id, f"[{style}]{e.status}[/{style}]")
    return table


@agents_app.command("load")
def load(
    file: Path = typer.Argument(..., help="Definitions file (.json, .yaml or .yml)."),
    reset_memory: bool = typer.Option(
        False, "--reset-memory", help="Overwrite existing block values with the file's."
    ),
    org: str | None = typer.Option(None, "--org", help="Organization id (default: settings)."),
) -> None:
    """Validate FILE completely, then create or update its tools and agents (all-or-nothing)."""
    settings = Settings.from_env()
    try:
        raw = read_definitions_file(file)
        result = asyncio.run(
            _load(settings.database_url, org or settings.organization_id, raw, reset_memory)
        )
    except DefinitionError as exc:
        _err.print(f"[red]{file}: invalid definitions; nothing was written[/red]")
        for line in exc.lines:
            _err.print(f"  {line}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    _out.print(_render(result))
    base = [e for e in result.tools if e.builtin]
    created = sum(1 for e in base if e.status != "unchanged")
    _out.print(
        f"{len(result.agents)} agents ({result.count('created')} created, "
        f"{result.count('updated')} updated, {result.count('unchanged')} unchanged); "
        f"{len(base)} base tools ({created} created or updated)"
    )


async def _list(url: str, org_id: str, limit: int, offset: int) -> list[dict[str, Any]]:
    await _require_schema(url)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            agents = await list_agents(session, org_id, limit=limit, offset=offset)
    finally:
        await engine.dispose()
    return [
        {
            "id": a.id,
            "name": a.name,
            "agent_type": str(a.agent_type),
            "model": a.llm_config.model,
            "tools": [t.name for t in a.tools],
            "blocks": [b.label for b in a.blocks],
            "created_at": a.created_at.isoformat() if a.created_at else None,
        }
        for a in agents
    ]


@agents_app.command("list")
def list_(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
    limit: int = typer.Option(100, "--limit", min=1),
    offset: int = typer.Option(0, "--offset", min=0),
    org: str | None = typer.Option(None, "--org", help="Organization id (default: settings)."),
) -> None:
    """List the organization's agents."""
    settings = Settings.from_env()
    rows = asyncio.run(_list(settings.database_url, org or settings.organization_id, limit, offset))
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"Agents ({len(rows)})")
    for column in ("name", "id", "type", "model", "tools", "blocks"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(
            r["name"],
            r["id"],
            r["agent_type"],
            r["model"],
            str(len(r["tools"])),
            ", ".join(r["blocks"]),
        )
    _out.print(table)
