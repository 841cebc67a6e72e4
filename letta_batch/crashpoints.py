"""Named pause points for crash tests (off unless ``LETTA_BATCH_CRASHPOINT_DIR`` is set).

A test starts a worker subprocess with ``LETTA_BATCH_CRASHPOINT_DIR=<dir>`` and
``LETTA_BATCH_CRASHPOINTS=send.after_create,…``. When the worker reaches a listed point it
writes ``<dir>/<point>.reached`` and waits forever; the test then SIGKILLs it, starts a fresh
worker without the variables, and checks that the job still completes with nothing lost or
duplicated. In production neither variable is set and a checkpoint is a dictionary lookup.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

DIR_ENV = "LETTA_BATCH_CRASHPOINT_DIR"
POINTS_ENV = "LETTA_BATCH_CRASHPOINTS"

#: Every point a job passes, in step order. ``tools.after_chunk`` and ``persist.after_commit``
#: are passed by steps with custom tool calls; ``decide.after_commit`` (and the built-in
#: ``tools.after_chunk``) only by runs started before the ``settle-step`` patch.
POINTS = (
    "build.after_commit",
    "send.before_create",
    "send.after_create",
    "poll.after_retrieve",
    "collect.after_stream",
    "settle.before_commit",
    "settle.after_commit",
    "tools.after_chunk",
    "persist.after_commit",
    "finalize.after_commit",
)


async def checkpoint(point: str) -> None:
    """Pause here forever if a crash test asked for ``point`` (never returns then)."""
    directory = os.environ.get(DIR_ENV)
    if not directory or point not in os.environ.get(POINTS_ENV, "").split(","):
        return
    # A tiny file write, only ever in crash tests.
    Path(directory, f"{point}.reached").write_text(str(os.getpid()))  # noqa: ASYNC240
    await asyncio.Event().wait()  # never set: the test kills the process now
