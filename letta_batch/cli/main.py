"""``letta-batch``: the command line.

Sub-commands are registered from their own modules; a module that fails to import (for
example an optional component) does not take the rest of the CLI down with it.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="letta-batch",
    help="Step Letta-style agents through provider batch APIs on Temporal.",
    no_args_is_help=True,
    add_completion=False,
)


def _register() -> None:
    from letta_batch.cli.agents import agents_app
    from letta_batch.cli.db import db_app
    from letta_batch.cli.emulator import emulator

    app.add_typer(db_app, name="db")
    app.add_typer(agents_app, name="agents")
    app.command("emulator", help="Run the local Anthropic Message Batches emulator.")(emulator)

    from letta_batch.cli import jobs as jobs_cli

    jobs_cli.register(app)

    from letta_batch.cli import replay as replay_cli

    replay_cli.register(app)  # `replay FILE…` and the `dev` sub-app (record-histories)


_register()


if __name__ == "__main__":
    app()
