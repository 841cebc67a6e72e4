"""Garbage-collector settings for the worker process.

A step materialises a few hundred thousand short-lived objects per 10,000 agents (rows,
models, JSON trees). With CPython's default thresholds (700, 10, 10) the collector ran
full collections over every live object again and again while those phases ran: measured
with ``bench/profile_phases.py --agents 10000``, 45 s of orchestration per step with the
defaults, 31 s with the collector off, 32 s with :data:`GC_THRESHOLDS` after
``gc.freeze()``. Nearly all of those objects are freed by reference counting; the collector
is only needed for cycles, which these settings still collect, just less often.
"""

from __future__ import annotations

import gc

#: ``gc.set_threshold`` values: young collections every 100,000 net allocations, full
#: collections rarely (the third value counts middle-generation collections).
GC_THRESHOLDS = (100_000, 50, 1_000)


def tune_gc(thresholds: tuple[int, int, int] = GC_THRESHOLDS) -> None:
    """Freeze what is alive now (imports, settings: never garbage) and raise the thresholds.

    Call once at process start, after imports. Idempotent.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
