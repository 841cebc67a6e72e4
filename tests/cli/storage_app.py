"""A local Typer app with the db and agents sub-apps (independent of cli/main.py)."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from letta_batch.cli.agents import agents_app
from letta_batch.cli.db import db_app

app = typer.Typer()
app.add_typer(db_app, name="db")
app.add_typer(agents_app, name="agents")


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    """Run the CLI with ``env``; (exit code, stdout + stderr)."""
    result = CliRunner().invoke(app, list(args), env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output
