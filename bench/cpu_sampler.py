"""How many cores the machine kept busy during given spans of time (Linux ``/proc/stat``).

A thread reads the machine-wide CPU counters every 50 ms; ``busy_cores(spans)`` is the busy
CPU time inside the spans divided by their length. It tells a phase that waits (on the
provider, a timer, a lock) from one that saturates the cores, which is what decides whether
a phase gets faster by overlapping work or only by doing less of it.
"""

from __future__ import annotations

import os
import threading
import time
from bisect import bisect_left

#: Seconds between two readings.
INTERVAL = 0.05


class CpuSampler:
    """Machine-wide busy CPU time, sampled in a daemon thread between ``start`` and ``stop``."""

    def __init__(self) -> None:
        self._times: list[float] = []
        self._busy: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._ticks = os.sysconf("SC_CLK_TCK")

    def start(self) -> CpuSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            with open("/proc/stat") as stat:
                fields = [int(x) for x in stat.readline().split()[1:]]
            idle = fields[3] + fields[4]  # idle + iowait
            self._times.append(time.time())
            self._busy.append((sum(fields[:8]) - idle) / self._ticks)
            self._stop.wait(INTERVAL)

    def _busy_at(self, t: float) -> float:
        """Busy CPU seconds up to ``t``, interpolated between the two nearest readings."""
        i = min(max(bisect_left(self._times, t), 1), len(self._times) - 1)
        t0, t1 = self._times[i - 1], self._times[i]
        b0, b1 = self._busy[i - 1], self._busy[i]
        return b0 + (b1 - b0) * (t - t0) / (t1 - t0) if t1 > t0 else b1

    def busy_cores(self, spans: list[tuple[float, float]]) -> float:
        """Mean busy cores over ``spans`` (epoch seconds; overlapping spans count once)."""
        if len(self._times) < 2:
            return float("nan")
        merged: list[list[float]] = []
        for start, stop in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], stop)
            else:
                merged.append([start, stop])
        seconds = sum(b - a for a, b in merged)
        busy = sum(self._busy_at(b) - self._busy_at(a) for a, b in merged)
        return busy / seconds if seconds else float("nan")
