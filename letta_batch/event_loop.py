"""The event loop the long-running processes (worker, emulator) run on: uvloop by default.

A worker spends much of a step's CPU moving bytes through sockets: COPY streams and result
rows to and from PostgreSQL, request bodies up to 256 MB to the provider, results back.
asyncio's own selector loop does that in Python; uvloop does it in C (libuv). Measured on the
10,000-agent, 2-process benchmark, two interleaved pairs (bench/README.md, twelfth session):
the workers' CPU fell by 5 % and the handoff from one step's batch to the next by 11 %.

``LETTA_BATCH_EVENT_LOOP=asyncio`` (``Settings.event_loop``) keeps asyncio's loop, and so does a
platform uvloop does not support (Windows), where it is not installed. Workflow code is not
affected either way: Temporal runs workflows on its own deterministic loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

T = TypeVar("T")

EventLoopKind = Literal["uvloop", "asyncio"]


def loop_factory(kind: EventLoopKind) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The loop factory for ``kind``; None means asyncio's default loop."""
    if kind != "uvloop":
        return None
    try:
        import uvloop
    except ImportError:  # not installed on this platform (see pyproject.toml)
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T], kind: EventLoopKind | None = None) -> T:
    """``asyncio.run(main)`` on the configured loop (``kind``, else ``Settings.event_loop``)."""
    if kind is None:
        from letta_batch.config import Settings

        kind = Settings.from_env().event_loop
    with asyncio.Runner(loop_factory=loop_factory(kind)) as runner:
        return runner.run(main)
