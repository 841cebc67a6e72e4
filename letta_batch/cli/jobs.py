"""Job commands: ``submit``, ``status``, ``watch``, ``messages``, ``jobs``, ``cancel``, ``worker``
and ``demo``, registered on the main app by :func:`register`.

Exit codes: 0 success, 1 operational failure (unknown job, refused cancel, failed job with
``--wait``), 2 invalid input (nothing was written and no workflow was started).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from letta_batch.cli import queries
from letta_batch.cli.render import err, jobs_table, messages_table, out, status_table
from letta_batch.cli.session import fail as _fail
from letta_batch.cli.session import print_json as _print_json
from letta_batch.cli.session import read_payload
from letta_batch.cli.session import run as _run
from letta_batch.cli.watch import job_snapshot, watch_job
from letta_batch.client import LettaBatchClient
from letta_batch.config import Settings
from letta_batch.contracts import JobProgress
from letta_batch.services.submit import SubmissionError

JobArg = Annotated[str, typer.Argument(help="The job id (job-…).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def submit(
    file: Annotated[Path, typer.Argument(help="Letta CreateBatch JSON: {requests, callback_url}.")],
    max_steps: Annotated[int, typer.Option("--max-steps", help="Step cap per agent.")] = 50,
    idempotency_key: Annotated[
        str | None, typer.Option("--idempotency-key", help="Same key → same job, never a second.")
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Watch the job until it ends.")] = False,
    shards: Annotated[
        int | None,
        typer.Option(
            "--shards",
            help="Split each step over this many worker processes (default LETTA_BATCH_SHARDS).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate a batch, store it and start its workflow; prints the job id."""
    payload = read_payload(file)

    async def go(client: LettaBatchClient) -> int:
        try:
            job = await client.submit(
                payload, max_steps=max_steps, idempotency_key=idempotency_key, shards=shards
            )
        except SubmissionError as exc:
            lines = [f"{file}: invalid batch, nothing was submitted:", *exc.problems]
            typer.echo("\n  ".join(lines), err=True)
            return 2
        if as_json:
            _print_json(job.model_dump(mode="json"))
        elif job.created:
            typer.echo(job.job_id)
        else:
            typer.echo(f"{job.job_id} (existing job for idempotency key {idempotency_key!r})")
        if not wait:
            return 0
        final = await (
            _wait_json(client, job.job_id) if as_json else watch_job(client, job.job_id, err)
        )
        return 1 if final["status"] == "failed" else 0

    raise typer.Exit(_run(go))


async def _wait_json(client: LettaBatchClient, job_id: str) -> dict[str, Any]:
    await client.wait(job_id)
    _print_json(snap := await job_snapshot(client, job_id))
    return snap


def _not_found(exc: KeyError) -> typer.Exit:
    return _fail(str(exc.args[0]) if exc.args else str(exc))


def status(job_id: JobArg, as_json: JsonOpt = False) -> None:
    """Job status, step, agents per status, provider batch and tokens; live phase if running."""

    async def go(client: LettaBatchClient) -> None:
        try:
            snap = await job_snapshot(client, job_id)
        except KeyError as exc:
            raise _not_found(exc) from exc
        if as_json:
            _print_json(snap)
        else:
            live = JobProgress.model_validate(snap["live"]) if snap["live"] else None
            out.print(status_table(snap, live))

    _run(go, offline_ok=True)


def watch(job_id: JobArg) -> None:
    """Live progress of a job (a bar per step, phase, next poll) until it ends."""

    async def go(client: LettaBatchClient) -> None:
        try:
            final = await watch_job(client, job_id, out)
        except KeyError as exc:
            raise _not_found(exc) from exc
        out.print(f"job {job_id} ended: {final['status']}")

    _run(go)


def messages(
    job_id: JobArg,
    agent: Annotated[
        str | None, typer.Option("--agent", help="Only this agent's messages.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Messages the job wrote (joined through its batch items), in order."""

    async def go(client: LettaBatchClient) -> None:
        org = client.settings.organization_id
        async with client.ctx.session_factory() as session:
            rows = await queries.job_messages(session, org, job_id, agent, limit)
        _print_json(rows) if as_json else out.print(messages_table(rows))

    _run(go, offline_ok=True)


def jobs(
    status_filter: Annotated[
        str | None, typer.Option("--status", help="Only jobs in this status.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Newest N jobs.")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """All jobs, newest first — finished ones included."""

    async def go(client: LettaBatchClient) -> None:
        async with client.ctx.session_factory() as session:
            rows = await queries.list_jobs(
                session, client.settings.organization_id, status_filter, limit
            )
        _print_json(rows) if as_json else out.print(jobs_table(rows))

    _run(go, offline_ok=True)


def cancel(
    job_id: JobArg,
    reason: Annotated[
        str, typer.Option("--reason", help="Recorded on the job.")
    ] = "cancelled by operator",
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait for the job to end.")] = True,
) -> None:
    """Cancel a running job: its provider batch is cancelled, unfinished agents marked cancelled."""

    async def go(client: LettaBatchClient) -> int:
        try:
            stored = await client.job_status(job_id)
        except KeyError as exc:
            raise _not_found(exc) from exc
        try:
            result = await client.cancel(job_id, reason)
        except WorkflowUpdateFailedError as exc:
            typer.echo(f"cancel refused: {exc.cause or exc}", err=True)
            return 1
        except RPCError as exc:
            typer.echo(
                f"cancel refused: job {job_id} is {stored['status']} ({exc.message})", err=True
            )
            return 1
        batch = result.provider_batch_id or "none in flight"
        typer.echo(
            f"cancel accepted for {job_id} in phase {result.phase.value}; provider batch: {batch}"
        )
        if wait:
            await client.wait(job_id)
            final = await client.job_status(job_id)
            typer.echo(f"job {job_id}: {final['status']}; agents: {json.dumps(final['agents'])}")
        return 0

    raise typer.Exit(_run(go))


def worker(
    drain_seconds: Annotated[
        float, typer.Option("--drain-seconds", help="Graceful-shutdown window.")
    ] = 30.0,
    max_concurrent_activities: Annotated[int, typer.Option("--max-concurrent-activities")] = 20,
    processes: Annotated[
        int,
        typer.Option(
            "--processes",
            min=1,
            help="Worker processes (one per core; pair with LETTA_BATCH_SHARDS).",
        ),
    ] = 1,
    log_level: Annotated[str, typer.Option("--log-level")] = "INFO",
) -> None:
    """Run a worker (configuration from the environment: TEMPORAL_ADDRESS, DATABASE_URL, …)."""
    import worker as worker_module  # lazy: pulls in the workflows and activities
    from letta_batch.logging_setup import configure_logging

    configure_logging(log_level)
    options = worker_module.WorkerOptions(
        max_concurrent_activities=max_concurrent_activities, drain_seconds=drain_seconds
    )
    worker_module.run_processes(Settings.from_env(), options, processes, log_level)


def register(app: typer.Typer) -> None:
    """Add the job commands (and ``demo``) to ``app``."""
    from letta_batch.cli.demo import demo

    for fn in (submit, status, watch, messages, jobs, cancel, worker):
        app.command(fn.__name__)(fn)
    app.command("demo")(demo)
