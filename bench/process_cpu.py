"""CPU seconds used by groups of processes between two readings (Linux ``/proc``).

``bench_job.py`` reads every process's user + system time when the job starts and again
when it ends, and sums the difference per group: the worker processes, PostgreSQL (every
``postgres`` process: the workers' backends, the WAL writer, the checkpointer) and the
emulator. Unlike wall-clock phase times this does not depend on how the processes shared the
machine's cores, so "workers + PostgreSQL core-seconds per step" is the job's orchestration
cost as it would be on a machine of its own, and it is steadier from run to run.

A process that ends between the readings is not counted (its time is gone from ``/proc``);
the workers' database connections are pooled and live through the job, so their backends are
counted. One that starts in between counts from zero.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime


def _is_postgres(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip() == "postgres"
    except OSError:
        return False


@dataclass
class ProcessCpu:
    """CPU time per group: ``pids`` name fixed groups; ``postgres`` is found by name."""

    pids: dict[str, Iterable[int]]
    _start: dict[tuple[str, int], float] = field(default_factory=dict)

    def _read(self) -> dict[tuple[str, int], float]:
        readings: dict[tuple[str, int], float] = {}
        groups = {group: list(pids) for group, pids in self.pids.items()}
        groups["postgres"] = [
            int(p) for p in os.listdir("/proc") if p.isdigit() and _is_postgres(int(p))
        ]
        for group, pids in groups.items():
            for pid in pids:
                seconds = _cpu_seconds(pid)
                if seconds is not None:
                    readings[(group, pid)] = seconds
        return readings

    def start(self) -> ProcessCpu:
        self._start = self._read()
        return self

    def seconds(self) -> dict[str, float]:
        """CPU seconds per group since :meth:`start` (processes alive at both readings, or
        started in between)."""
        totals = {group: 0.0 for group in [*self.pids, "postgres"]}
        for (group, pid), now in self._read().items():
            totals[group] += now - self._start.get((group, pid), 0.0)
        return totals
