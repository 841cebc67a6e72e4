"""``letta-batch replay FILE…`` and ``letta-batch dev record-histories``.

``replay`` runs recorded workflow histories through the workflow code installed here, with the
production data converter, and reports any that the code can no longer reproduce (a
non-determinism error means in-flight workflows of that shape would break on this build).
It accepts both ``temporal workflow show --output json`` exports and the SDK's
``WorkflowHistory.to_json()``. ``dev record-histories`` regenerates the corpus in
``tests/histories`` by running the scenarios of :mod:`letta_batch.devtools.history_scenarios`.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from letta_batch.cli.render import clip, out
from letta_batch.client import workflow_id_for

dev_app = typer.Typer(help="Developer tools (not needed to run jobs).", no_args_is_help=True)


@dataclass
class ReplayOutcome:
    """The replay of one file: ``error`` is None when the history replayed cleanly."""

    path: Path
    workflow_type: str
    error: str | None


def load_history(path: Path) -> WorkflowHistory:
    """Read a history file with its real workflow id.

    The id matters: the job derives its child workflow ids from it, so replaying under another
    id fails. Recent servers write it into the start event; for older exports of a job it
    comes from the ``BatchJobId`` search attribute, else the file name is used.
    """
    history = WorkflowHistory.from_json(path.stem, json.loads(path.read_text()))
    if not history.events:
        return history
    started = history.events[0].workflow_execution_started_event_attributes
    workflow_id = started.workflow_id
    job = started.search_attributes.indexed_fields.get("BatchJobId")
    if not workflow_id and job is not None and job.data:
        workflow_id = workflow_id_for(json.loads(job.data))
    return replace(history, workflow_id=workflow_id or path.stem)


def _workflow_type(history: WorkflowHistory) -> str:
    if not history.events:
        return "?"
    return history.events[0].workflow_execution_started_event_attributes.workflow_type.name


async def replay_files(paths: list[Path]) -> list[ReplayOutcome]:
    """Replay every file with the production workflows; never raises for a bad file."""
    from workflows import WORKFLOWS

    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    outcomes = []
    for path in paths:
        try:
            history = load_history(path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            outcomes.append(ReplayOutcome(path, "?", f"unreadable history: {exc}"))
            continue
        if not history.events:
            outcomes.append(ReplayOutcome(path, "?", "the history has no events"))
            continue
        try:
            result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
            failure = result.replay_failure
        except Exception as exc:  # a malformed history: report it, replay the other files
            failure = exc
        error = None if failure is None else f"{type(failure).__name__}: {failure}"
        outcomes.append(ReplayOutcome(path, _workflow_type(history), error))
    return outcomes


def history_files(paths: list[Path]) -> list[Path]:
    """The files named, and every ``*.json`` directly in the directories named (sorted)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(path.glob("*.json")))
        else:
            found.append(path)
    return found


def replay(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="History JSON files (CLI exports or SDK to_json), or directories of them."
        ),
    ],
) -> None:
    """Replay workflow histories against this build's workflow code; exit 1 if any fails."""
    found = history_files(files)
    if not found:
        raise typer.BadParameter(f"no history files in {', '.join(map(str, files))}")
    outcomes = asyncio.run(replay_files(found))
    table = Table(title="Replay", show_lines=False)
    table.add_column("file", overflow="fold")
    table.add_column("workflow", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("error", overflow="fold")
    for o in outcomes:
        result = "[green]ok[/green]" if o.error is None else "[red]failed[/red]"
        table.add_row(str(o.path), o.workflow_type, result, clip(o.error, 100) if o.error else "")
    out.print(table)
    failed = sum(1 for o in outcomes if o.error is not None)
    out.print(f"{len(outcomes)} replayed, {len(outcomes) - failed} ok, {failed} failed")
    if failed:
        raise typer.Exit(1)


@dev_app.command("record-histories")
def record_histories(
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write the histories.")] = Path(
        "tests/histories"
    ),
    scenario: Annotated[
        list[str] | None, typer.Option("--scenario", "-s", help="Only these (repeatable).")
    ] = None,
    tag: Annotated[
        str, typer.Option("--tag", help="Suffix for the file names, e.g. v2 → one_step-v2.json.")
    ] = "",
    postgres: Annotated[
        str | None,
        typer.Option("--postgres", help="host:port of PostgreSQL (trust auth, user postgres)."),
    ] = None,
) -> None:
    """Regenerate the replay corpus by running each scenario on a local dev server."""
    from letta_batch.devtools.history_scenarios import BY_NAME
    from letta_batch.devtools.record_histories import record_histories as run
    from letta_batch.logging_setup import configure_logging

    configure_logging("WARNING")
    unknown = [s for s in scenario or [] if s not in BY_NAME]
    if unknown:
        typer.echo(f"unknown scenario(s) {unknown}; known: {sorted(BY_NAME)}", err=True)
        raise typer.Exit(2)
    recorded = asyncio.run(run(out_dir, scenario, tag=tag, postgres=postgres))
    table = Table(title=f"Recorded histories in {out_dir}")
    for column in ("scenario", "status", "steps", "runs", "files"):
        table.add_column(column, no_wrap=True)
    for r in recorded:
        table.add_row(
            r.scenario, r.result.status, str(r.result.steps), str(r.result.runs), str(len(r.files))
        )
    out.print(table)
    for r in recorded:
        for path in r.files:
            out.print(f"  {path}")


def register(app: typer.Typer) -> None:
    """Add ``replay`` and the ``dev`` sub-app to ``app``."""
    app.command("replay")(replay)
    app.add_typer(dev_app, name="dev")
