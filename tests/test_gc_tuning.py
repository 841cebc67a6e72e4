"""The worker's garbage-collector settings."""

from __future__ import annotations

import gc

from letta_batch.gc_tuning import GC_THRESHOLDS, tune_gc


def test_tune_gc_freezes_startup_objects_and_raises_thresholds() -> None:
    before = gc.get_threshold()
    try:
        tune_gc()
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() > 0
        assert gc.isenabled()  # cycles are still collected, only less often
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
