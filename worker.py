"""The letta-batch worker: runs ``BatchJobWorkflow`` and its activities.

Configuration comes from the environment (``TEMPORAL_ADDRESS``, ``TEMPORAL_NAMESPACE``,
``LETTA_BATCH_TASK_QUEUE``, ``DATABASE_URL``, ``ANTHROPIC_API_KEY``, ``ANTHROPIC_BASE_URL``) or
flags. SIGTERM/SIGINT start a graceful shutdown: no new tasks, running activities get
``--drain-seconds`` to finish, then the process exits.

``--processes N`` runs N worker processes on the same task queue (one per core: Python runs
one core per process). Jobs started with ``LETTA_BATCH_SHARDS=N`` split each step's phases
into N concurrent activities, which these processes then share: every process also polls
the task queue's shard queue (``<task queue>-shards``) with one slot, so that a step's shards
land on different processes (activities/workers.py).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

import structlog
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.worker import Worker

from activities.workers import SHARD_SLOTS, process_workers
from letta_batch import event_loop
from letta_batch.client import connect_temporal
from letta_batch.config import Settings
from letta_batch.db.engine import create_engine
from letta_batch.gc_tuning import tune_gc
from letta_batch.logging_setup import configure_logging
from letta_batch.services.runtime import ServiceContext
from workflows.search_attributes import ALL_KEYS

log = structlog.get_logger("letta_batch.worker")


@dataclass
class WorkerOptions:
    """Worker tuning; each has a flag and a default that suits a 2-core machine."""

    max_concurrent_activities: int = 20
    """Activity slots (each step phase is one activity; tools fan out in a child)."""
    max_concurrent_workflow_tasks: int = 50
    drain_seconds: float = 30.0
    """Graceful-shutdown window for running activities (Temporal's default is 0)."""
    tool_activities_per_second: float | None = None
    """Task-queue-wide rate limit (server enforced) for rate-limited tools, if set."""
    shard_slots: int = SHARD_SLOTS
    """Slots on the shard queue: one, so that a step's shards spread over the processes
    (activities/workers.py)."""
    eager_activities: bool = True
    """Let the worker that completes a workflow task start the activities it schedules
    itself. Off with several processes, for runs started before the shard queue: their
    shards are on the task queue and must spread over the processes instead of queueing on
    the one that ran the workflow task (on the shard queue eager execution does not apply)."""


async def register_search_attributes(
    client: Client, namespace: str, keys: Sequence[SearchAttributeKey] = ALL_KEYS
) -> list[str]:
    """Add the project's search attributes that are missing; returns the names added."""
    existing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    known = set(existing.custom_attributes) | set(existing.system_attributes)
    missing = {  # The SDK's enum mirrors the API's IndexedValueType numbering.
        k.name: IndexedValueType.ValueType(int(k.indexed_value_type))
        for k in keys
        if k.name not in known
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    return sorted(missing)


def build_workers(
    client: Client, ctx: ServiceContext, task_queue: str, options: WorkerOptions
) -> list[Worker]:
    """This process's workers: the task queue's and its shard queue's (activities/workers.py)."""
    return process_workers(
        client,
        ctx,
        task_queue,
        shard_slots=options.shard_slots,
        graceful_shutdown_timeout=timedelta(seconds=options.drain_seconds),
        max_concurrent_activities=options.max_concurrent_activities,
        max_concurrent_workflow_tasks=options.max_concurrent_workflow_tasks,
        max_task_queue_activities_per_second=options.tool_activities_per_second,
        disable_eager_activity_execution=not options.eager_activities,
    )


async def run_worker(settings: Settings, options: WorkerOptions, *, register: bool = True) -> None:
    client = await connect_temporal(settings)
    if register:
        added = await register_search_attributes(client, settings.temporal_namespace)
        if added:
            log.info("search_attributes.registered", names=added)
    ctx = ServiceContext(engine=create_engine(settings.database_url), settings=settings)
    workers = build_workers(client, ctx, settings.task_queue, options)
    tune_gc()  # after imports and setup: see letta_batch/gc_tuning.py for the measurements
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker.started", task_queue=settings.task_queue, address=settings.temporal_address)
    runs = [asyncio.create_task(w.run()) for w in workers]
    await asyncio.wait(
        [*runs, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
    )
    log.info("worker.stopping", drain_seconds=options.drain_seconds)
    await asyncio.gather(*(w.shutdown() for w in workers))
    await ctx.aclose()
    # A worker that stopped on its own (e.g. it lost the server for good) fails the process,
    # so that the supervisor restarts it instead of leaving it half-polling.
    await asyncio.gather(*runs)
    log.info("worker.stopped")


def _child_process(settings: Settings, options: WorkerOptions, log_level: str) -> None:
    configure_logging(log_level)
    # The parent registered the search attributes; children would only race it.
    event_loop.run(run_worker(settings, options, register=False), settings.event_loop)


def run_processes(
    settings: Settings, options: WorkerOptions, processes: int, log_level: str = "INFO"
) -> None:
    """Run ``processes`` workers: this process and ``processes - 1`` spawned children.

    A terminal's Ctrl-C reaches the whole process group and SIGTERM to this process is
    passed on, so every process drains its own activities; this one waits for the children.
    """
    if processes > 1:
        options = replace(options, eager_activities=False)
    spawn = multiprocessing.get_context("spawn")
    children = [
        spawn.Process(
            target=_child_process, args=(settings, options, log_level), name=f"worker-{i}"
        )
        for i in range(1, processes)
    ]
    for child in children:
        child.start()
    try:
        event_loop.run(run_worker(settings, options), settings.event_loop)
    finally:
        for child in children:
            if child.is_alive() and child.pid is not None:
                os.kill(child.pid, signal.SIGTERM)
        for child in children:
            child.join(timeout=options.drain_seconds + 10)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    defaults = WorkerOptions()
    parser.add_argument("--task-queue")
    parser.add_argument("--address")
    parser.add_argument("--namespace")
    parser.add_argument("--database-url")
    parser.add_argument(
        "--max-concurrent-activities", type=int, default=defaults.max_concurrent_activities
    )
    parser.add_argument("--drain-seconds", type=float, default=defaults.drain_seconds)
    parser.add_argument(
        "--task-queue-activities-per-second",
        type=float,
        default=None,
        help="server-enforced rate limit over the whole task queue (e.g. tools calling a "
        "rate-limited service); off by default",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="worker processes to run (one per core; pair with LETTA_BATCH_SHARDS)",
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    if args.processes < 1:
        parser.error(f"--processes: must be at least 1, got {args.processes}")
    configure_logging(args.log_level)
    settings = Settings.from_env()
    settings = settings.model_copy(
        update={
            k: v
            for k, v in {
                "task_queue": args.task_queue,
                "temporal_address": args.address,
                "temporal_namespace": args.namespace,
                "database_url": args.database_url,
            }.items()
            if v
        }
    )
    options = WorkerOptions(
        max_concurrent_activities=args.max_concurrent_activities,
        drain_seconds=args.drain_seconds,
        tool_activities_per_second=args.task_queue_activities_per_second,
    )
    run_processes(settings, options, args.processes, args.log_level)


if __name__ == "__main__":
    main()
