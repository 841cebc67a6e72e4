"""`letta-batch emulator`: run the local Anthropic Message Batches emulator in the foreground.

The lead registers `emulator` on the typer app (`app.command("emulator")(emulator)`); the
function is plain so it can also be called directly from Python.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from letta_batch.gc_tuning import tune_gc
from letta_batch.providers.emulator import EmulatorConfig, EmulatorServer


def emulator(
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port (0 = pick a free one).")] = 8765,
    processing_seconds: Annotated[
        float,
        typer.Option(
            "--processing-seconds",
            help="Emulated time from create to end (0 = ends on the first poll).",
        ),
    ] = 0.0,
    scenario: Annotated[
        Path | None,
        typer.Option("--scenario", help="JSON/YAML file scripting replies (see docs/emulator.md)."),
    ] = None,
    faults: Annotated[
        str | None,
        typer.Option(
            "--faults",
            help="Fault rules, e.g. 'create:429:retry-after=2:times=1,results:errored_fraction=0.1'"
            " or JSON.",
        ),
    ] = None,
    api_key: Annotated[
        list[str] | None,
        typer.Option("--api-key", help="Accepted API key (repeatable). Default: accept any."),
    ] = None,
    prefix: Annotated[str, typer.Option("--prefix", help="Optional path prefix.")] = "",
    max_body_bytes: Annotated[
        int, typer.Option("--max-body-bytes", help="413 above this create body size.")
    ] = 256 * 1024 * 1024,
) -> None:
    """Serve a faithful Anthropic Message Batches API emulator until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = EmulatorConfig(
        host=host,
        port=port,
        prefix=prefix,
        processing_seconds=processing_seconds,
        api_keys=tuple(api_key or ()),
        max_body_bytes=max_body_bytes,
    )
    server = EmulatorServer(config=config, scenario=scenario, faults=faults)
    # Decoding a 100 MB create body makes millions of objects; with CPython's default
    # collector thresholds the full collections over them were most of the accept time
    # (a 20 MB body: 0.41 s with the defaults, 0.13 s without collections). Same
    # settings as the worker.
    tune_gc()

    def ready() -> None:
        typer.echo(f"Anthropic Message Batches emulator on {server.base_url}")
        typer.echo(f"  admin API: {server.admin_url}  (see docs/emulator.md)")

    server.serve_forever(on_ready=ready)
