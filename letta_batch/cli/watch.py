"""The ``watch`` loop: live view of one job until its workflow ends.

Each refresh reads the workflow's ``progress`` query (phase, polls, interval) and a few
grouped database counts (agents per status, per-step progress). The time to the next poll is
estimated locally from when the poll count last changed, since the query reports intervals.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from rich.console import Console
from rich.live import Live
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from letta_batch.cli.queries import step_counts, tokens_used
from letta_batch.cli.render import WatchSnapshot, watch_view
from letta_batch.client import LettaBatchClient

#: Seconds between refreshes of the watch view.
REFRESH_SECONDS = 0.5
#: How long a job's workflow may be invisible before ``watch`` gives up on it.
MISSING_GRACE_SECONDS = 10.0


async def job_snapshot(client: LettaBatchClient, job_id: str) -> dict[str, Any]:
    """``status --json``: the stored job plus token usage and live progress (if running)."""
    status = await client.job_status(job_id)
    async with client.ctx.session_factory() as session:
        status["tokens"] = await tokens_used(session, job_id)
    progress = await client.progress(job_id)
    status["live"] = progress.model_dump(mode="json") if progress else None
    return status


async def workflow_running(client: LettaBatchClient, job_id: str) -> bool | None:
    """True/False for a running/closed workflow, None when it does not exist."""
    try:
        desc = await client.handle(job_id).describe()
    except RPCError:
        return None
    return desc.status == WorkflowExecutionStatus.RUNNING


class _PollClock:
    """Turns the query's (polls, interval) into a countdown to the next poll."""

    def __init__(self) -> None:
        self._key: tuple[int, int] | None = None
        self._since = time.monotonic()

    def next_in(self, step: int, polls: int, interval: float | None) -> float | None:
        if interval is None:
            return None
        if (step, polls) != self._key:
            self._key, self._since = (step, polls), time.monotonic()
        return interval - (time.monotonic() - self._since)


async def watch_job(
    client: LettaBatchClient, job_id: str, console: Console, refresh: float = REFRESH_SECONDS
) -> dict[str, Any]:
    """Show the live view until the workflow has ended; returns the final stored status."""
    with Live(console=console, refresh_per_second=4, transient=False) as live:
        status = await _follow(client, job_id, live, refresh)
    console.line()  # off a terminal the last frame ends without a newline
    return status


async def _follow(
    client: LettaBatchClient, job_id: str, live: Live, refresh: float
) -> dict[str, Any]:
    clock = _PollClock()
    missing_since: float | None = None
    while True:
        status = await client.job_status(job_id)
        progress = await client.progress(job_id)
        async with client.ctx.session_factory() as session:
            steps = await step_counts(session, job_id)
        next_in = (
            clock.next_in(progress.step, progress.polls, progress.next_poll_seconds)
            if progress
            else None
        )
        live.update(watch_view(WatchSnapshot(status, steps, progress, next_in)))
        if progress is None:
            running = await workflow_running(client, job_id)
            if running is False:
                # Closed: finalize wrote the job's final status before the workflow ended
                # (or it was terminated, and nothing will change any more).
                return status
            if running is None:
                # Right after submit the workflow may not be visible yet; give it a moment.
                missing_since = missing_since or time.monotonic()
                if time.monotonic() - missing_since > MISSING_GRACE_SECONDS:
                    return status
        await asyncio.sleep(refresh)
