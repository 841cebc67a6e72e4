"""Child processes the demo starts, and their orderly shutdown.

Each child runs in its own session (``start_new_session``) so a Ctrl-C in the terminal reaches
only the demo, which then stops the children in reverse start order: the worker first (it
drains), then the emulator, then the Temporal server. A child gets SIGTERM, and SIGKILL on its
process group when it has not exited within the timeout; the demo always waits for the exit.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

#: Seconds a child gets to exit after SIGTERM before its process group is killed.
DEFAULT_STOP_TIMEOUT = 20.0


def pid_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (a reaped or dead child counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        # The state letter follows the parenthesised command name.
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


@dataclass
class ManagedProcess:
    """One child process: its command line, environment and log file."""

    name: str
    argv: Sequence[str]
    log_path: Path
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    stop_timeout: float = DEFAULT_STOP_TIMEOUT
    """Seconds between SIGTERM and SIGKILL (the worker's drain window must fit in it)."""
    popen: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _log_file: IO[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            list(self.argv),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=dict(self.env) if self.env is not None else None,
            cwd=self.cwd,
            start_new_session=True,
        )
        log.info("started %s (pid %s): %s", self.name, self.popen.pid, " ".join(self.argv))

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the child's log (for error messages when it dies early)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> int | None:
        """SIGTERM, wait up to ``stop_timeout``, then SIGKILL the group; returns the exit code."""
        if self.popen is None:
            return None
        proc = self.popen
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s (pid %s) ignored SIGTERM; killing it", self.name, proc.pid)
                # The child leads its own session, so its group id is its pid: this reaches
                # its helpers (e.g. tool sandboxes) and nothing else.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        # Helpers the child left behind in its group go too (they are ours by construction).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return proc.returncode


class ProcessGroup:
    """The children of one demo run, stopped in reverse order; pids recorded in a JSON file."""

    def __init__(self, pid_file: Path) -> None:
        self.pid_file = pid_file
        self.processes: list[ManagedProcess] = []

    def start(self, proc: ManagedProcess) -> ManagedProcess:
        proc.start()
        self.processes.append(proc)
        self._record()
        return proc

    def pids(self) -> dict[str, int]:
        return {p.name: p.pid for p in self.processes if p.pid is not None}

    def dead(self) -> list[ManagedProcess]:
        """Children that exited on their own (the demo treats that as fatal)."""
        return [p for p in self.processes if not p.running()]

    def stop_all(self) -> dict[str, int | None]:
        codes: dict[str, int | None] = {}
        for proc in reversed(self.processes):
            codes[proc.name] = proc.stop()
        self._record(stopped=True)
        return codes

    def _record(self, stopped: bool = False) -> None:
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        payload = {"pids": self.pids(), "stopped": stopped, "written_at": time.time()}
        self.pid_file.write_text(json.dumps(payload, indent=2))


def stale_pids(pid_file: Path) -> dict[str, int]:
    """Pids a previous run recorded and that still run (it was killed before cleaning up)."""
    try:
        data = json.loads(pid_file.read_text())
    except (OSError, ValueError):
        return {}
    return {name: pid for name, pid in data.get("pids", {}).items() if pid_alive(int(pid))}
