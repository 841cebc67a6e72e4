"""Benchmark a whole job: dev server + emulator (zero processing) + PostgreSQL + one worker.

    uv run python bench/bench_job.py --agents 100 1000 10000 [--steps 2]

Prints one table row per run. The worker runs in this process (its SQL statements are
counted on its engine; peak RSS is this process's, which includes the small driver); the
emulator runs as a separate process so its work does not count as orchestration.
Phase times are summed from the activities' start/complete events in the histories;
"overhead/step" is everything but durable-timer waits and the provider's processing.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import socket
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from letta_batch.client import LettaBatchClient, workflow_id_for  # noqa: E402
from letta_batch.config import Settings  # noqa: E402
from letta_batch.contracts import PollSettings  # noqa: E402
from letta_batch.db.engine import StatementCounter, create_engine  # noqa: E402
from letta_batch.definitions import load_definitions  # noqa: E402
from letta_batch.services.runtime import ServiceContext  # noqa: E402
from tests.conftest import create_test_database, drop_test_database  # noqa: E402
from tests.workflows.conftest import new_worker, temporal_binary  # noqa: E402
from workflows.search_attributes import ALL_KEYS  # noqa: E402

PHASES = {
    "build_requests": "build",
    "send_batch": "send",
    "poll_batch": "poll",
    "collect_results": "collect",
    "apply_decisions": "decide",
    "run_builtin_tools": "tools",
    "persist_step": "persist",
}
SCENARIO = {
    "rules": [
        {
            "match": {"agent_id": "agent-*", "step": 0},
            "reply": {
                "tool": "conversation_search",
                "input": {"query": "tea", "request_heartbeat": True},
            },
        },
        {
            "match": {"agent_id": "agent-*"},
            "reply": {
                "tool": "send_message",
                "input": {"message": "done", "request_heartbeat": False},
            },
        },
    ]
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _agents(n: int, tag: str) -> dict[str, object]:
    return {
        "agents": [
            {
                "name": f"b{i}-{tag}",
                "model": "anthropic/claude-sonnet-4-5",
                "enable_reasoner": False,
                "system": "You are a benchmark agent. {CORE_MEMORY}",
                "memory_blocks": [
                    {"label": "human", "value": f"User {i}.", "limit": 2000},
                    {"label": "persona", "value": "Helpful.", "limit": 2000},
                ],
            }
            for i in range(n)
        ]
    }


async def run_one(
    env: WorkflowEnvironment, emulator_url: str, n: int, steps: int
) -> dict[str, object]:
    name, url = await create_test_database()
    settings = Settings(database_url=url, anthropic_base_url=emulator_url, task_queue=f"bench-{n}")
    ctx = ServiceContext(engine=create_engine(url), settings=settings)
    try:
        async with ctx.session_factory.begin() as session:
            loaded = await load_definitions(session, settings.organization_id, _agents(n, name))
        client = LettaBatchClient(env.client, ctx)
        job = await client.submit(
            {"requests": [{"agent_id": a, "input": "hi"} for a in loaded.agent_ids.values()]},
            max_steps=steps,
            poll=PollSettings(initial_seconds=1, factor=1.0, max_seconds=1),
        )
        started = time.monotonic()
        with StatementCounter(ctx.engine) as counter:
            async with new_worker(env.client, ctx, max_concurrent_activities=4):
                result = await client.wait(job.job_id)
        wall = time.monotonic() - started
        phases: dict[str, float] = defaultdict(float)
        events = size = runs = 0
        async for wf in env.client.list_workflows(f"WorkflowId = '{workflow_id_for(job.job_id)}'"):
            history = await env.client.get_workflow_handle(wf.id, run_id=wf.run_id).fetch_history()
            runs += 1
            events += len(history.events)
            size += len(history.to_json())
            started_at: dict[int, tuple[str, float]] = {}
            for e in history.events:
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
                    phases[PHASES.get(kind, "other")] += e.event_time.ToDatetime().timestamp() - t0
    finally:
        await ctx.aclose()
        await drop_test_database(name)
    overhead = sum(v for k, v in phases.items() if k != "other") / steps
    return {
        "agents": n,
        "steps": result.steps,
        "status": result.status,
        "wall": wall,
        **{p: phases.get(p, 0.0) for p in PHASES.values()},
        "overhead": overhead,
        "agent_steps_s": n * result.steps / wall,
        "sql_step": counter.count / steps,
        "events_step": events / steps,
        "kb_step": size / steps / 1024,
        "runs": runs,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def start_emulator() -> tuple[subprocess.Popen[bytes], str]:
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
    httpx.put(f"{url}/_admin/scenario", json=SCENARIO).raise_for_status()
    return proc, url


async def main(sizes: list[int], steps: int, emulator_url: str) -> None:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=temporal_binary(),
        search_attributes=ALL_KEYS,
    )
    rows = []
    try:
        for n in sizes:
            rows.append(await run_one(env, emulator_url, n, steps))
    finally:
        await env.shutdown()
    table = Table(title=f"letta-batch job benchmark ({steps} steps, emulator at 0 s processing)")
    cols = [
        "agents",
        "steps",
        "status",
        "wall",
        *PHASES.values(),
        "overhead",
        "agent_steps_s",
        "sql_step",
        "events_step",
        "kb_step",
        "runs",
        "rss_mb",
    ]
    for c in cols:
        table.add_column(c.replace("_s", "/s").replace("_step", "/step"), justify="right")
    for r in rows:
        table.add_row(*(f"{r[c]:.2f}" if isinstance(r[c], float) else str(r[c]) for c in cols))
    Console(width=200).print(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--steps", type=int, default=2)
    args = parser.parse_args()
    emulator, url = start_emulator()
    try:
        asyncio.run(main(args.agents, args.steps, url))
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
