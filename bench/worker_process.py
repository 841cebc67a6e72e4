"""A benchmark worker in a process of its own, for jobs sharded over several processes.

    python bench/worker_process.py --address HOST:PORT --task-queue Q --database-url URL \
        --anthropic-base-url URL --stats /tmp/stats.json [--max-concurrent-activities 20]

Runs the production workers (``worker.build_workers``: the task queue with the production
number of activity slots, the shard queue with one) until SIGTERM, then writes the SQL statements
it executed and its peak RSS (MiB) to ``--stats`` as JSON, for bench_job.py to add up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import peak_rss  # noqa: E402
from letta_batch import event_loop  # noqa: E402
from letta_batch.client import connect_temporal  # noqa: E402
from letta_batch.config import Settings  # noqa: E402
from letta_batch.db.engine import StatementCounter, create_engine  # noqa: E402
from letta_batch.gc_tuning import tune_gc  # noqa: E402
from letta_batch.services.runtime import ServiceContext  # noqa: E402
from worker import WorkerOptions, build_workers  # noqa: E402


async def main(args: argparse.Namespace) -> None:
    settings = Settings(
        database_url=args.database_url,
        anthropic_base_url=args.anthropic_base_url,
        temporal_address=args.address,
        task_queue=args.task_queue,
    )
    client = await connect_temporal(settings)
    ctx = ServiceContext(engine=create_engine(settings.database_url), settings=settings)
    workers = build_workers(
        client,
        ctx,
        settings.task_queue,
        WorkerOptions(
            max_concurrent_activities=args.max_concurrent_activities,
            drain_seconds=5,
            eager_activities=False,
        ),
    )
    tune_gc()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    peak_rss.start_window()
    with StatementCounter(ctx.engine) as counter:
        runs = [asyncio.create_task(w.run()) for w in workers]
        _write(args.stats, {})  # ready
        await stop.wait()
        await asyncio.gather(*(w.shutdown() for w in workers))
        await asyncio.gather(*runs)
    await ctx.aclose()
    _write(args.stats, {"sql": counter.count, "rss_mib": peak_rss.peak_mib()})


def _write(path: str, stats: dict[str, float]) -> None:
    Path(path).write_text(json.dumps(stats))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--anthropic-base-url", required=True)
    parser.add_argument("--stats", required=True)
    parser.add_argument(
        "--max-concurrent-activities", type=int, default=WorkerOptions.max_concurrent_activities
    )
    event_loop.run(main(parser.parse_args()))  # as worker.py: LETTA_BATCH_EVENT_LOOP
