"""The Temporal workers of one process: the task queue and its shard queue.

Every process polls two queues with the same activities and database context:

- the job's task queue: workflows and every activity, with the process's activity slots;
- the shard queue (``workflows.settings.shard_task_queue``): the per-shard phase activities of
  jobs run with several shards, **one at a time** by default. Those activities are CPU-bound
  (Python and PostgreSQL on the same cores), so a second one in the same process would only
  share its core; taken one per process, a step's shards spread over the processes. A single
  process still runs every shard, one after the other.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from activities.step_activities import StepActivities
from letta_batch.services.runtime import ServiceContext
from workflows import WORKFLOWS
from workflows.settings import shard_task_queue

#: Shard-queue activity slots per process (see the module docstring).
SHARD_SLOTS = 1


def process_workers(
    client: Client,
    ctx: ServiceContext,
    task_queue: str,
    *,
    shard_slots: int = SHARD_SLOTS,
    graceful_shutdown_timeout: timedelta = timedelta(),
    activities: StepActivities | None = None,
    **options: Any,
) -> list[Worker]:
    """The task-queue worker (``options`` are its ``Worker`` arguments) and the shard-queue
    worker, in that order; run both, e.g. ``async with a, b:``. Both run ``activities``
    (``StepActivities(ctx)`` unless given)."""
    activities = activities or StepActivities(ctx)
    return [
        Worker(
            client,
            task_queue=task_queue,
            workflows=WORKFLOWS,
            activities=activities.all(),
            graceful_shutdown_timeout=graceful_shutdown_timeout,
            **options,
        ),
        Worker(
            client,
            task_queue=shard_task_queue(task_queue),
            activities=activities.sharded(),
            max_concurrent_activities=shard_slots,
            graceful_shutdown_timeout=graceful_shutdown_timeout,
        ),
    ]
