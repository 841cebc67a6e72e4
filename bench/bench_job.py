"""Benchmark a whole job: dev server + emulator (zero processing) + PostgreSQL + one worker.

    uv run python bench/bench_job.py --agents 100 1000 10000 [--steps 2] [--history TURNS]

Prints one table row per run. The worker runs in this process (its SQL statements are
counted on its engine; peak RSS is this process's from job start to end, see peak_rss.py:
that includes memory the loading of the agent definitions freed but the allocator kept,
~1 GiB for 100,000 agents) unless ``--workers-outside`` runs every worker in a process of its
own (bench/worker_process.py, which reports its statements and peak RSS); the emulator runs
as a separate process so its work does not count as orchestration ("rss_emulator_mb" is its
peak RSS over its life, i.e. over every size of one invocation).
Phase times are the time covered by the activities' scheduled→completed spans in the
histories (a sharded phase's concurrent activities count once);
"overhead/step" is everything but durable-timer waits and the provider's processing: the
phases' sum less the emulator's own work on the job's batches (column "provider": accepting
each create call once its body has arrived, i.e. decoding and validating up to 256 MB of JSON,
plus the CPU time of rendering the results files; the emulator measures both and reports them
in its admin API);
"retries" is the activity attempts that failed or timed out before one completed (from the
histories' started events): 0 in a healthy run, so a race or a timeout shows up here;
"handoff" is the longest time from a provider batch ending to the next step's batch being
submitted, i.e. its create call's body delivered whole (the poll interval here is 1 s);
"handoff_created" runs to the batch being created instead, the provider's accept of the upload
included (decoding and validating up to 256 MB of JSON, its work, not orchestration);
"cores" is how many of the machine's cores were busy, on average, while build, decide,
tools and persist ran (bench/cpu_sampler.py): close to the core count means those phases
are bound by CPU (Python and PostgreSQL), not by waiting;
"cpu_workers", "cpu_pg" and "cpu_emulator" are the CPU seconds per step the worker processes
(with an in-process worker: this process), PostgreSQL and the emulator used from the job's
start to its end (bench/process_cpu.py): workers + PostgreSQL is the orchestration's cost in
core-seconds whatever the number of cores, and steadier than wall-clock times;
"wal_mb/step" and "checkpoints" are the WAL PostgreSQL wrote per step and the checkpoints it
ran over the same span (bench/pg_wal.py: with the default ``max_wal_size`` a job writing GBs
runs a checkpoint every ~0.5 GB, and logs every page it touches after one whole); the
table's caption gives the settings they depend on.
``--history TURNS`` gives every agent that many finished turns (three messages each) before
the job, a production-sized context (bench/history_seed.py).
``--prior-jobs K`` runs K jobs over the same agents first (not measured, with a worker of
their own): the measured job then meets the items, messages and job rows of earlier jobs,
as in production, and its agents' contexts have grown by those jobs' turns.
The workers run with the production settings of worker.py (20 activity slots, one slot on
the shard queue, eager activities off with several processes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import peak_rss  # noqa: E402
from bench.cpu_sampler import CpuSampler  # noqa: E402
from bench.fleet import FLEETS, agents, job_requests, scenario  # noqa: E402
from bench.history_seed import seed_history  # noqa: E402
from bench.pg_wal import WalMeter, wal_mb  # noqa: E402
from bench.process_cpu import ProcessCpu  # noqa: E402
from letta_batch import event_loop  # noqa: E402
from letta_batch.client import LettaBatchClient, workflow_id_for  # noqa: E402
from letta_batch.config import Settings  # noqa: E402
from letta_batch.contracts import PollSettings  # noqa: E402
from letta_batch.db.engine import StatementCounter, create_engine  # noqa: E402
from letta_batch.db.models_batch import LLMBatchItemRow, LLMBatchJobRow, LLMBatchPartRow  # noqa: E402
from letta_batch.definitions import load_definitions  # noqa: E402
from letta_batch.devtools.scratch_db import create_database, drop_database  # noqa: E402
from letta_batch.gc_tuning import tune_gc  # noqa: E402
from letta_batch.repositories.bulk import dialect_name  # noqa: E402
from letta_batch.repositories.request_bodies import params_bytes, with_tool_sets  # noqa: E402
from letta_batch.services.runtime import ServiceContext  # noqa: E402
from tests.workflows.conftest import new_worker, temporal_binary  # noqa: E402
from worker import WorkerOptions  # noqa: E402
from workflows.search_attributes import ALL_KEYS  # noqa: E402

PHASES = {
    "build_requests": "build",
    "send_batch": "send",
    "poll_batch": "poll",
    "collect_results": "collect",
    "settle_step": "settle",
    "apply_decisions": "decide",
    "run_builtin_tools": "tools",
    "persist_step": "persist",
}

#: The phases a job shards over its worker processes (the ``cores`` column covers them).
_SHARDABLE = ("build", "settle", "decide", "tools", "persist")

#: Benchmark databases are created and dropped per run under this prefix.
SCRATCH_PREFIX = "lbbench_"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_extra_workers(
    env: WorkflowEnvironment, emulator_url: str, database_url: str, task_queue: str, count: int
) -> list[tuple[subprocess.Popen[bytes], Path]]:
    """``count`` worker processes besides the in-process one (bench/worker_process.py)."""
    started = []
    for i in range(count):
        stats = Path(tempfile.gettempdir()) / f"lbbench-worker-{os.getpid()}-{i}.json"
        stats.unlink(missing_ok=True)
        proc = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "bench" / "worker_process.py"),
                "--address",
                env.client.service_client.config.target_host,
                "--task-queue",
                task_queue,
                "--database-url",
                database_url,
                "--anthropic-base-url",
                emulator_url,
                "--stats",
                str(stats),
            ],
            cwd=ROOT,
        )
        started.append((proc, stats))
    for proc, stats in started:
        for _ in range(600):
            if stats.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        if not stats.exists():
            raise RuntimeError(f"worker process {proc.pid} did not start")
    return started


def _stop_extra_workers(started: list[tuple[subprocess.Popen[bytes], Path]]) -> tuple[int, float]:
    """Stop them; (SQL statements, summed peak RSS MiB) they report."""
    sql, rss = 0, 0.0
    for proc, _ in started:
        proc.send_signal(signal.SIGTERM)
    for proc, stats in started:
        proc.wait(timeout=60)
        reported = json.loads(stats.read_text() or "{}")
        stats.unlink(missing_ok=True)
        sql += int(reported.get("sql", 0))
        rss += float(reported.get("rss_mib", 0.0))
    return sql, rss


#: The bench's poll policy: every second (the emulator processes at once).
_POLL = PollSettings(initial_seconds=1, factor=1.0, max_seconds=1)


async def run_prior_jobs(
    env: WorkflowEnvironment,
    url: str,
    settings: Settings,
    agent_ids: list[str],
    count: int,
    steps: int,
) -> None:
    """``--prior-jobs``: ``count`` jobs over the same agents, run to their end before the
    measured one, with a worker of their own (stopped before the measurement starts). Their
    items, messages and job rows are the history a production database keeps, which a
    fresh benchmark database lacks: a statement whose cost grows with a table rather than
    with its chunk shows here."""
    if count <= 0:
        return
    ctx = ServiceContext(engine=create_engine(url), settings=settings)
    try:
        async with new_worker(
            env.client, ctx, max_concurrent_activities=WorkerOptions.max_concurrent_activities
        ):
            client = LettaBatchClient(env.client, ctx)
            for _ in range(count):
                job = await client.submit(job_requests(agent_ids), max_steps=steps, poll=_POLL)
                result = await client.wait(job.job_id)
                if result.status != "completed":
                    raise RuntimeError(f"prior job {job.job_id} ended {result.status}")
    finally:
        await ctx.aclose()


async def run_one(
    env: WorkflowEnvironment,
    emulator_url: str,
    n: int,
    steps: int,
    fleet: str,
    processes: int = 1,
    history_turns: int = 0,
    outside: bool = False,
    emulator_pid: int | None = None,
    prior_jobs: int = 0,
) -> dict[str, object]:
    name, url = await create_database(SCRATCH_PREFIX)
    settings = Settings(database_url=url, anthropic_base_url=emulator_url, task_queue=f"bench-{n}")
    ctx = ServiceContext(engine=create_engine(url), settings=settings)
    wal = await WalMeter.connect(url)
    try:
        async with ctx.session_factory.begin() as session:
            loaded = await load_definitions(
                session, settings.organization_id, agents(n, name, fleet)
            )
        await seed_history(
            ctx, settings.organization_id, list(loaded.agent_ids.values()), history_turns
        )
        await run_prior_jobs(env, url, settings, list(loaded.agent_ids.values()), prior_jobs, steps)
        client = LettaBatchClient(env.client, ctx)
        extra = _start_extra_workers(
            env, emulator_url, url, settings.task_queue, processes if outside else processes - 1
        )
        try:
            with StatementCounter(ctx.engine) as counter:
                # The production worker settings (worker.py): 20 activity slots on the task
                # queue, one on the shard queue, eager activities off with several processes.
                async with (
                    contextlib.nullcontext()
                    if outside
                    else new_worker(
                        env.client,
                        ctx,
                        max_concurrent_activities=WorkerOptions.max_concurrent_activities,
                        disable_eager_activity_execution=processes > 1,
                    )
                ):
                    await asyncio.sleep(1)  # every worker polling before the job starts
                    # The client has an engine of its own: only the workers' SQL is counted.
                    submitter = ServiceContext(engine=create_engine(url), settings=settings)
                    try:
                        job = await LettaBatchClient(env.client, submitter).submit(
                            job_requests(loaded.agent_ids.values()),
                            max_steps=steps,
                            poll=_POLL,
                            shards=processes,
                        )
                    finally:
                        await submitter.aclose()
                    peak_rss.start_window()  # from here on: the worker's memory, not set-up's
                    wal_before = await wal.read()
                    started = time.monotonic()
                    cpu = CpuSampler().start()
                    process_cpu = ProcessCpu(
                        {
                            "workers": [p.pid for p, _ in extra]
                            + ([] if outside else [os.getpid()]),
                            "emulator": [emulator_pid] if emulator_pid else [],
                        }
                    ).start()
                    try:
                        result = await client.wait(job.job_id)
                    finally:
                        cpu.stop()
                        used = process_cpu.seconds()
                    wall = time.monotonic() - started
                    wal_after = await wal.read()
                    pg_settings = await wal.settings()
        finally:
            extra_sql, extra_rss = _stop_extra_workers(extra)
        phases: dict[str, float] = defaultdict(float)
        spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
        events = size = runs = retries = 0
        async for wf in env.client.list_workflows(f"WorkflowId = '{workflow_id_for(job.job_id)}'"):
            history = await env.client.get_workflow_handle(wf.id, run_id=wf.run_id).fetch_history()
            runs += 1
            events += len(history.events)
            size += len(history.to_json())
            started_at: dict[int, tuple[str, float]] = {}
            for e in history.events:
                if e.HasField("activity_task_started_event_attributes"):
                    # The attempt that ran to the end: every earlier one failed or timed out.
                    retries += e.activity_task_started_event_attributes.attempt - 1
                attrs = e.activity_task_scheduled_event_attributes
                if e.HasField("activity_task_scheduled_event_attributes"):
                    started_at[e.event_id] = (
                        attrs.activity_type.name,
                        e.event_time.ToDatetime().timestamp(),
                    )
                if e.HasField("activity_task_completed_event_attributes"):
                    kind, t0 = started_at[
                        e.activity_task_completed_event_attributes.scheduled_event_id
                    ]
                    spans[PHASES.get(kind, "other")].append(
                        (t0, e.event_time.ToDatetime().timestamp())
                    )
        for phase, intervals in spans.items():
            phases[phase] = _covered_seconds(intervals)
        # Every phase but send and collect, whose time is mostly the provider's (one core).
        cores = cpu.busy_cores(
            [span for phase, spans_ in spans.items() if phase in _SHARDABLE for span in spans_]
        )
        parts = await _job_parts(ctx, job.job_id)
        emulated = await _emulator_batches(emulator_url, {p[1] for p in parts if p[1]})
        handoff, handoff_created = _handoff_seconds(parts, emulated)
        request_kb = await _mean_request_kb(ctx, job.job_id)
        batches = _provider_batches(parts)
        provider = _provider_seconds(emulated)
    finally:
        await wal.close()
        await ctx.aclose()
        await drop_database(name, SCRATCH_PREFIX)
    overhead = (sum(v for k, v in phases.items() if k != "other") - provider) / steps
    return {
        "agents": n,
        "fleet": fleet,
        "history": history_turns * 3,
        "prior_jobs": prior_jobs,
        "req_kb": request_kb,
        "batches": batches,
        "steps": result.steps,
        "status": result.status,
        "wall": wall,
        **{p: phases.get(p, 0.0) for p in PHASES.values()},
        "provider": provider,
        "overhead": overhead,
        "agent_steps_s": n * result.steps / wall,
        "sql_step": (counter.count + extra_sql) / steps,
        "events_step": events / steps,
        "kb_step": size / steps / 1024,
        "runs": runs,
        "retries": retries,
        "handoff_s": handoff,
        "handoff_created_s": handoff_created,
        "processes": processes,
        "cores": cores,
        "cpu_workers": used["workers"] / steps,
        "cpu_pg": used["postgres"] / steps,
        "cpu_emulator": used["emulator"] / steps,
        "wal_mb_step": wal_mb(wal_before, wal_after) / steps,
        "checkpoints": wal_after.checkpoints - wal_before.checkpoints,
        "pg_settings": pg_settings,
        "workers": "own" if outside else "in-process",
        # In this process, memory the set-up freed but the allocator kept (fragments of
        # 100,000 loaded definitions) counts too: --workers-outside measures workers alone.
        "rss_mb": extra_rss if outside else peak_rss.peak_mib() + extra_rss,
        # The emulator's peak over its life (it serves every size of the invocation): the
        # provider's memory, apart from the workers'. -1 when unknown.
        "rss_emulator_mb": (peak_rss.process_peak_mib(emulator_pid) if emulator_pid else None)
        or -1.0,
    }


def _covered_seconds(intervals: list[tuple[float, float]]) -> float:
    """Time covered by the intervals: a sharded phase's concurrent activities count once."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total


async def _job_parts(ctx: ServiceContext, job_id: str) -> list[Any]:
    """The job's provider parts, in step order: ``(step, provider_batch_id,
    create_batch_response, latest_polling_response)``, read once for the figures below."""
    async with ctx.session_factory() as session:
        return list(
            (
                await session.execute(
                    select(
                        LLMBatchJobRow.step,
                        LLMBatchPartRow.provider_batch_id,
                        LLMBatchPartRow.create_batch_response,
                        LLMBatchPartRow.latest_polling_response,
                    )
                    .join(LLMBatchPartRow, LLMBatchPartRow.llm_batch_id == LLMBatchJobRow.id)
                    .where(LLMBatchJobRow.letta_batch_job_id == job_id)
                    .order_by(LLMBatchJobRow.step)
                )
            ).all()
        )


def _provider_batches(parts: list[Any]) -> str:
    """Provider batches per step, e.g. ``4+4`` for two steps split into four parts each."""
    per_step: dict[int, int] = {}
    for step, batch_id, _, _ in parts:
        per_step[step] = per_step.get(step, 0) + (batch_id is not None)
    return "+".join(str(n) for _, n in sorted(per_step.items()))


async def _emulator_batches(emulator_url: str, ids: set[str]) -> dict[str, dict[str, Any]]:
    """The emulator's admin view of these batches (with ``accept_seconds`` and
    ``results_seconds``), by id."""
    async with httpx.AsyncClient(timeout=60) as http:
        listed = await http.get(f"{emulator_url}/_admin/batches", params={"requests": "false"})
    listed.raise_for_status()
    return {b["id"]: b for b in listed.json()["data"] if b["id"] in ids}


def _provider_seconds(emulated: dict[str, dict[str, Any]]) -> float:
    """Seconds the emulator spent on the job's batches: accepting the create calls and the
    CPU time of rendering their results (summed over batches)."""
    return sum(
        b.get("accept_seconds", 0.0) + b.get("results_seconds", 0.0) for b in emulated.values()
    )


async def _mean_request_kb(ctx: ServiceContext, job_id: str) -> float:
    """Mean size of the params the provider received (the stored body and its shared
    ``tools`` array)."""
    async with ctx.session_factory() as session:
        mean = await session.scalar(
            with_tool_sets(select(func.avg(params_bytes(dialect_name(session))))).where(
                LLMBatchItemRow.letta_batch_job_id == job_id
            )
        )
    return float(mean or 0) / 1024


def _handoff_seconds(parts: list[Any], emulated: dict[str, dict[str, Any]]) -> tuple[float, float]:
    """Longest time from a step's last provider batch ending to the next step's first batch
    being submitted, and being created, all on the provider's clock.

    ``ended_at`` is as polled, ``created_at`` as the create call returned it. A batch counts
    as submitted when its create call's body had arrived whole: ``created_at`` less the
    provider's own time accepting it (``accept_seconds``: decoding and validating the JSON,
    up to 256 MB), which is not orchestration and which the real API spends on its side."""
    created: dict[int, datetime] = {}
    submitted: dict[int, datetime] = {}
    ended: dict[int, datetime] = {}
    for step, batch_id, create, polled in parts:
        if create:
            at = datetime.fromisoformat(create["created_at"])
            created[step] = min(at, created.get(step, at))
            accept = emulated.get(batch_id, {}).get("accept_seconds", 0.0)
            sent = at - timedelta(seconds=accept)
            submitted[step] = min(sent, submitted.get(step, sent))
        if polled and polled.get("ended_at"):
            at = datetime.fromisoformat(polled["ended_at"])
            ended[step] = max(at, ended.get(step, at))

    def longest(starts: dict[int, datetime]) -> float:
        gaps = [(starts[s + 1] - ended[s]).total_seconds() for s in ended if s + 1 in starts]
        return max(gaps) if gaps else 0.0

    return longest(submitted), longest(created)


def start_emulator(fleet: str) -> tuple[subprocess.Popen[bytes], str]:
    """The emulator in its own process, so its work is not counted as orchestration."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "letta_batch.cli.main",
            "emulator",
            "--port",
            str(port),
            "--processing-seconds",
            "0",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(f"{url}/_admin/health").raise_for_status()
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    httpx.put(f"{url}/_admin/scenario", json=scenario(fleet)).raise_for_status()
    return proc, url


async def main(
    sizes: list[int],
    steps: int,
    emulator_url: str,
    fleet: str,
    processes: int,
    history: int,
    outside: bool = False,
    emulator_pid: int | None = None,
    prior_jobs: int = 0,
) -> None:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=temporal_binary(),
        search_attributes=ALL_KEYS,
    )
    rows = []
    try:
        for n in sizes:
            rows.append(
                await run_one(
                    env,
                    emulator_url,
                    n,
                    steps,
                    fleet,
                    processes,
                    history,
                    outside,
                    emulator_pid,
                    prior_jobs,
                )
            )
    finally:
        await env.shutdown()
    table = Table(title=f"letta-batch job benchmark ({steps} steps, emulator at 0 s processing)")
    cols = [
        "agents",
        "fleet",
        "history",
        "prior_jobs",
        "req_kb",
        "steps",
        "batches",
        "status",
        "wall",
        *PHASES.values(),
        "provider",
        "overhead",
        "agent_steps_s",
        "sql_step",
        "events_step",
        "kb_step",
        "runs",
        "retries",
        "handoff_s",
        "handoff_created_s",
        "processes",
        "workers",
        "cores",
        "cpu_workers",
        "cpu_pg",
        "cpu_emulator",
        "wal_mb_step",
        "checkpoints",
        "rss_mb",
        "rss_emulator_mb",
    ]
    for c in cols:
        table.add_column(c.replace("_s", "/s").replace("_step", "/step"), justify="right")
    for r in rows:
        table.add_row(*(f"{r[c]:.2f}" if isinstance(r[c], float) else str(r[c]) for c in cols))
    if rows:
        table.caption = f"PostgreSQL: {rows[0]['pg_settings']}"
    Console(width=400).print(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--fleet", choices=FLEETS, default="letta", help="see bench/fleet.py")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="worker processes; the job runs with as many shards (LETTA_BATCH_SHARDS)",
    )
    parser.add_argument(
        "--history",
        type=int,
        default=0,
        help="finished turns (3 messages each) every agent has before the job (history_seed.py)",
    )
    parser.add_argument(
        "--workers-outside",
        action="store_true",
        help="run every worker in a process of its own (bench/worker_process.py), none in this "
        "one: its RSS then counts nothing of the set-up (loading the fleet)",
    )
    parser.add_argument(
        "--prior-jobs",
        type=int,
        default=0,
        help="run this many jobs over the same agents first (not measured): a database with "
        "the items, messages and job rows of earlier jobs, as in production",
    )
    args = parser.parse_args()
    emulator, url = start_emulator(args.fleet)
    try:
        tune_gc()  # as worker.py does
        # The in-process worker runs on this loop: the configured one, as worker.py's.
        event_loop.run(
            main(
                args.agents,
                args.steps,
                url,
                args.fleet,
                args.processes,
                args.history,
                args.workers_outside,
                emulator.pid,
                args.prior_jobs,
            )
        )
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
