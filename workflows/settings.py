"""Named activity timeouts and retry policies (one place to tune them)."""

from datetime import timedelta

from temporalio.common import RetryPolicy

#: Database-bound phases: short transient failures (connection resets, deadlocks) retry fast.
DB_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["NonRetryable", "InvalidJobState"],
)

#: Provider calls: the translator sets ``next_retry_delay`` from ``Retry-After``.
PROVIDER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
    non_retryable_error_types=["NonRetryable", "ProviderNonRetryable", "InvalidJobState"],
)

#: Callbacks: a few tries, never failing the job (the activity records the outcome).
CALLBACK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=5,
)

#: A job with several shards runs its sharded phases on ``<task queue>`` + this suffix. Each
#: worker process takes one activity at a time from that queue (``activities/workers.py``), so
#: a step's shards spread over the processes, one core each, whatever the process's other
#: slots; on the shared task queue both shards could start in the process that polled first.
SHARD_QUEUE_SUFFIX = "-shards"
#: ``workflow.patched`` id of that routing: runs started before it keep the shared queue.
SHARD_QUEUE_PATCH = "shard-task-queue"


#: ``workflow.patched`` id of the one-pass settle phase (``settle_step`` instead of
#: ``apply_decisions`` → ``run_builtin_tools`` → ``persist_step``): runs started before it
#: keep the three activities.
SETTLE_PATCH = "settle-step"


def shard_task_queue(task_queue: str) -> str:
    """The task queue of the sharded phases of jobs on ``task_queue``."""
    return task_queue + SHARD_QUEUE_SUFFIX


#: Building, collecting and persisting a 100,000-agent step is bounded by the database.
BUILD_TIMEOUT = timedelta(minutes=30)
SEND_TIMEOUT = timedelta(minutes=15)
POLL_TIMEOUT = timedelta(seconds=60)
COLLECT_TIMEOUT = timedelta(minutes=30)
DECIDE_TIMEOUT = timedelta(minutes=20)
TOOLS_TIMEOUT = timedelta(minutes=30)
PERSIST_TIMEOUT = timedelta(minutes=30)
#: Decide, built-in tools and persist in one activity: their three budgets together.
SETTLE_TIMEOUT = DECIDE_TIMEOUT + TOOLS_TIMEOUT + PERSIST_TIMEOUT
FINALIZE_TIMEOUT = timedelta(minutes=5)
CALLBACK_TIMEOUT = timedelta(seconds=30)
#: Every activity heartbeats (activities/step_activities.py); a worker that dies mid-activity
#: is noticed within this instead of after the activity's start-to-close timeout.
HEARTBEAT_TIMEOUT = timedelta(seconds=30)
