"""``worker.py --processes 2``: two real worker processes share a sharded job, and SIGTERM to
the parent drains and stops both."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from letta_batch.client import LettaBatchClient
from letta_batch.providers.emulator import EmulatorServer
from letta_batch.services.runtime import ServiceContext
from tests.faults.conftest import FAST_POLL, history
from tests.workflows.conftest import ROOT, worker_process_env
from tests.workflows.scenario import (
    clear_scenario,
    definitions,
    load_agents,
    set_scenario,
    suffix,
    two_step_rules,
)


def _worker_children(pid: int) -> list[int]:
    """The parent's spawned worker processes (not multiprocessing's resource tracker)."""
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    pids = [int(p) for p in found.stdout.split()]
    return [p for p in pids if b"spawn_main" in _cmdline(p)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _gone(pid: int) -> bool:
    try:
        return "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return True


def _start(environ: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "worker.py"),
            "--processes",
            "2",
            "--drain-seconds",
            "5",
            "--log-level",
            "WARNING",
        ],
        env=environ,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )


async def test_two_processes_run_a_sharded_job_and_stop_on_sigterm(
    tmp_path: Path,
    temporal_env: WorkflowEnvironment,
    service_ctx: ServiceContext,
    emulator: EmulatorServer,
) -> None:
    org = service_ctx.settings.organization_id
    heart, child, _cond = (await load_agents(service_ctx, org, definitions(suffix()))).values()
    set_scenario(emulator.base_url, two_step_rules(heart, child))
    environ = worker_process_env(temporal_env, service_ctx)
    log = tmp_path / "worker.log"
    proc = _start(environ, log)
    children: list[int] = []
    try:
        client = LettaBatchClient(temporal_env.client, service_ctx)
        job = await client.submit(
            {"requests": [{"agent_id": a, "input": "hi"} for a in (heart, child)]},
            max_steps=4,
            poll=FAST_POLL,
            shards=2,
        )
        result = await asyncio.wait_for(client.wait(job.job_id), timeout=120)
        assert result.status == "completed", (result, log.read_text()[-3000:])
        children = _worker_children(proc.pid)
        assert len(children) == 1, children  # one spawned worker besides the parent
        started_by = {
            e.activity_task_started_event_attributes.identity
            for e in await history(temporal_env, job.job_id)
            if e.HasField("activity_task_started_event_attributes")
        }
        assert started_by <= {f"{pid}@{os.uname().nodename}" for pid in (proc.pid, *children)}
    finally:
        clear_scenario(emulator.base_url)
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(proc.wait, 60)
    assert code == 0, log.read_text()[-3000:]
    assert all(_gone(pid) for pid in children), children  # the child drained and exited too
