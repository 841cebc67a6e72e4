"""``letta-batch demo`` end to end: dev server, emulator, worker and SQLite as real processes.

The demo runs twice on one state directory (fresh ports each run, agents upserted, a new job
each run); both jobs must complete and every process the demo started must be gone after it.
A second test interrupts a run with Ctrl-C (SIGINT) and checks the same cleanup.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from letta_batch.devstack import pid_alive

AGENTS = 6


def _demo_argv(state: Path, processing_seconds: float = 0) -> list[str]:
    return [
        sys.executable, "-m", "letta_batch.cli.main", "demo",
        "--agents", str(AGENTS), "--state-dir", str(state),
        "--processing-seconds", str(processing_seconds), "--max-steps", "4", "--timeout", "90",
    ]  # fmt: skip


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ANTHROPIC_API_KEY", "DATABASE_URL")}
    env["COLUMNS"] = "120"
    return env


def _recorded_pids(state: Path) -> dict[str, int]:
    data = json.loads((state / "processes.json").read_text())
    assert data["stopped"] is True
    return {name: int(pid) for name, pid in data["pids"].items()}


def _assert_all_gone(state: Path) -> None:
    pids = _recorded_pids(state)
    assert set(pids) == {"temporal", "emulator", "worker"}
    alive = {name: pid for name, pid in pids.items() if pid_alive(pid)}
    assert not alive, f"processes left running: {alive}"


def _logs(state: Path) -> str:
    parts = []
    for log in sorted((state / "logs").glob("*.log")):
        parts.append(
            f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-40:])
        )
    return "\n".join(parts)


def test_demo_runs_twice_completes_and_stops_everything(tmp_path: Path) -> None:
    state = tmp_path / "state"
    for run in (1, 2):
        proc = subprocess.run(
            _demo_argv(state), env=_env(), capture_output=True, text=True, timeout=150
        )
        detail = f"run {run}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}\n{_logs(state)}"
        assert proc.returncode == 0, detail
        assert "Temporal UI: http://127.0.0.1:" in proc.stdout, detail
        assert "/namespaces/default/workflows/batch-job-" in proc.stdout, detail
        _assert_all_gone(state)

    with sqlite3.connect(state / "letta-batch.db") as db:
        jobs = db.execute("SELECT status, agent_count FROM batch_jobs").fetchall()
        agents = db.execute("SELECT count(*) FROM agents").fetchone()[0]
        multi_step = db.execute("SELECT count(*) FROM batch_job_agents WHERE steps > 1").fetchone()[
            0
        ]
    assert len(jobs) == 2  # a new job each run
    assert all(status in ("completed", "completed_with_failures") for status, _ in jobs), jobs
    assert all(count == AGENTS for _, count in jobs)
    assert agents == AGENTS  # loading is idempotent by name
    assert multi_step > 0  # the sample agents' tool rules make multi-step runs


def test_ctrl_c_stops_every_process(tmp_path: Path) -> None:
    state = tmp_path / "state"
    out = tmp_path / "demo.out"
    with out.open("wb") as sink:
        # Each provider batch takes 30 s, so the job is still running when Ctrl-C arrives
        # (at zero processing a fast run could finish first and exit 0).
        proc = subprocess.Popen(
            _demo_argv(state, processing_seconds=30),
            env=_env(),
            stdout=sink,
            stderr=subprocess.STDOUT,
            # As in a terminal: a suite started in the background by a non-interactive shell
            # inherits SIGINT ignored, and the demo would rightly keep ignoring it.
            preexec_fn=_default_sigint,
        )
        try:
            deadline = time.monotonic() + 90
            while b"submitted job" not in out.read_bytes():
                assert proc.poll() is None, out.read_text() + _logs(state)
                assert time.monotonic() < deadline, out.read_text() + _logs(state)
                time.sleep(0.2)
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert code == 130, out.read_text()
    assert "stopping the demo's processes" in out.read_text()
    _assert_all_gone(state)
