"""``letta-batch db``: schema migrations (Alembic) on ``DATABASE_URL``."""

from __future__ import annotations

import typer
from rich.console import Console
from sqlalchemy.engine import make_url

from letta_batch.config import Settings
from letta_batch.db import migrate

db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)

_out = Console(soft_wrap=True)  # URLs and revisions stay on one line
_err = Console(stderr=True)


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@db_app.command("upgrade")
def upgrade(
    revision: str = typer.Option("head", "--revision", "-r", help="Target revision."),
) -> None:
    """Migrate the database (``DATABASE_URL`` or the embedded SQLite default) up to REVISION."""
    url = Settings.from_env().database_url
    try:
        migrate.upgrade(url, revision)
    except Exception as exc:
        _err.print(f"[red]upgrade failed:[/red] {exc}")
        raise typer.Exit(1) from None
    _out.print(f"{_safe(url)}: at revision {migrate.current_revision(url) or 'base'}")


@db_app.command("downgrade")
def downgrade(
    revision: str = typer.Option("base", "--revision", "-r", help="Target revision."),
) -> None:
    """Migrate the database down to REVISION (``base`` drops every table)."""
    url = Settings.from_env().database_url
    try:
        migrate.downgrade(url, revision)
    except Exception as exc:
        _err.print(f"[red]downgrade failed:[/red] {exc}")
        raise typer.Exit(1) from None
    _out.print(f"{_safe(url)}: at revision {migrate.current_revision(url) or 'base'}")


@db_app.command("current")
def current() -> None:
    """Print the database's current revision and the newest available one."""
    url = Settings.from_env().database_url
    _out.print(
        f"{_safe(url)}: at revision {migrate.current_revision(url) or 'base'} "
        f"(head {migrate.head_revision()})"
    )
