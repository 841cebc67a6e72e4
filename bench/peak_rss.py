"""Peak resident memory of this process since a chosen moment (Linux), for the benchmarks.

``ru_maxrss`` cannot be reset, so it would count the benchmark's own set-up (loading
100,000 agent definitions in this process) as the worker's. `start_window` hands freed
memory back to the OS and resets the kernel's high-water mark (``/proc/self/clear_refs``);
`peak_mib` then reads ``VmHWM``: the peak since the window started. The reset starts from
the current RSS, which still holds whatever the allocator could not hand back (fragments of
100,000 loaded definitions: ~1 GiB), so a worker in the benchmark's own process is measured
high; ``bench_job.py --workers-outside`` measures workers in processes of their own.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import resource
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def start_window() -> bool:
    """Collect garbage, trim the allocator and reset the peak; False where unsupported."""
    gc.collect()
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        libc = ctypes.CDLL(libc_name)
        if hasattr(libc, "malloc_trim"):
            libc.malloc_trim(0)
    try:
        _CLEAR_REFS.write_text("5")  # 5 = reset the peak RSS to the current RSS
    except OSError:
        return False
    return True


def peak_mib() -> float:
    """Peak RSS in MiB since `start_window` (the whole process's life where unsupported)."""
    peak = _vm_hwm_mib(_STATUS)
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_peak_mib(pid: int) -> float | None:
    """Peak RSS in MiB of another process over its life (``VmHWM``); None if unreadable."""
    return _vm_hwm_mib(Path(f"/proc/{pid}/status"))


def _vm_hwm_mib(status: Path) -> float | None:
    """``VmHWM`` of a ``/proc/<pid>/status`` file in MiB; None if unreadable."""
    try:
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None
