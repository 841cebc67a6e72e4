"""Profile the step phases in isolation: services called directly, no Temporal.

    uv run python bench/profile_phases.py --agents 1000 [--steps 2] [--profile [--top 25]]

Creates a test database, loads N agents, submits a job and runs build → send → poll →
collect → settle (``--three-phase``: decide → tools → persist) for each step against an in-process emulator (zero
processing), timing every phase, counting its SQL statements and the seconds spent in them
(``db_*`` columns: statement execution and row decoding; the rest of a phase is Python) and
the WAL it made PostgreSQL write (``wal_mb_*``, read on a connection of its own;
``--wal-records`` breaks it down by record type).
The slowest statements are listed with their phase. ``--profile`` runs the phases (or only
those named by ``--phase``) under cProfile and prints the top functions by cumulative and
own time. ``--keep-db`` leaves the database behind for inspection. ``--history TURNS``
gives every agent that many finished turns (three messages each) before the job starts,
so that build loads, validates and renders a production-sized context (bench/history_seed.py).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import event

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.fleet import FLEETS, agents, job_requests, scenario  # noqa: E402
from bench.history_seed import seed_history  # noqa: E402
from bench.pg_wal import WalMeter, wal_mb  # noqa: E402
from letta_batch.config import Settings  # noqa: E402
from letta_batch.db.engine import StatementCounter, create_engine  # noqa: E402
from letta_batch.definitions import load_definitions  # noqa: E402
from letta_batch.devtools.direct_steps import PHASES, run_steps  # noqa: E402
from letta_batch.devtools.scratch_db import create_database, drop_database  # noqa: E402
from letta_batch.gc_tuning import tune_gc  # noqa: E402
from letta_batch.providers.emulator.server import EmulatorServer  # noqa: E402
from letta_batch.services import submit  # noqa: E402
from letta_batch.services.runtime import ServiceContext  # noqa: E402

#: Benchmark databases are created and dropped per run under this prefix.
SCRATCH_PREFIX = "lbbench_"


async def run(
    n: int,
    steps: int,
    profiler: cProfile.Profile | None,
    only: set[str],
    fleet: str,
    *,
    slowest: int = 8,
    keep_db: bool = False,
    history: int = 0,
    three_phase: bool = False,
    wal_records: bool = False,
) -> dict[str, Any]:
    emulator = EmulatorServer(processing_seconds=0).start()
    async with httpx.AsyncClient() as http:
        (await http.put(f"{emulator.admin_url}/scenario", json=scenario(fleet))).raise_for_status()
    name, url = await create_database(SCRATCH_PREFIX)
    settings = Settings(database_url=url, anthropic_base_url=emulator.base_url)
    ctx = ServiceContext(engine=create_engine(url), settings=settings)
    seconds: dict[str, float] = defaultdict(float)
    slow: list[tuple[float, str]] = []
    started: dict[int, float] = {}

    @event.listens_for(ctx.engine.sync_engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        started[id(cursor)] = time.perf_counter()

    @event.listens_for(ctx.engine.sync_engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        took = time.perf_counter() - started.pop(id(cursor), time.perf_counter())
        slow.append((took, f"[{current[0]}] {statement}"))
        db_seconds[current[0]] += took

    sql: dict[str, int] = defaultdict(int)
    db_seconds: dict[str, float] = defaultdict(float)
    current = [""]

    wal_written: dict[str, float] = defaultdict(float)
    # (phase, record type) -> [count, bytes], with --wal-records
    wal_kinds: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    # Its own connection, so that reading the WAL position is not counted as the phase's SQL.
    wal = await WalMeter.connect(url)

    async def timed(phase: str, fn: Callable[[], Awaitable[Any]]) -> Any:
        wal_before = await wal.read()
        with StatementCounter(ctx.engine) as counter:
            profiling = profiler is not None and (not only or phase in only)
            current[0] = phase
            if profiling:
                profiler.enable()
            t0 = time.perf_counter()
            try:
                return await fn()
            finally:
                seconds[phase] += time.perf_counter() - t0
                if profiling:
                    profiler.disable()
                sql[phase] += counter.count
                wal_after = await wal.read()
                wal_written[phase] += wal_mb(wal_before, wal_after)
                if wal_records:
                    for kind, (count, size) in (
                        await wal.record_stats(wal_before, wal_after)
                    ).items():
                        wal_kinds[phase, kind][0] += count
                        wal_kinds[phase, kind][1] += size

    try:
        org = settings.organization_id
        async with ctx.session_factory.begin() as session:
            loaded = await load_definitions(session, org, agents(n, name, fleet))
        await seed_history(ctx, org, list(loaded.agent_ids.values()), history)
        job = await submit.submit_batch(
            ctx,
            org,
            job_requests(loaded.agent_ids.values()),
            max_steps=steps,
        )
        await run_steps(ctx, org, job.job_id, steps, timed=timed, three_phase=three_phase)
    finally:
        await wal.close()
        await ctx.aclose()
        if keep_db:
            print(f"kept database {name} (drop it when done)")
        else:
            await drop_database(name, SCRATCH_PREFIX)
        emulator.stop()
    for took, statement in sorted(slow, reverse=True)[:slowest]:
        print(f"{took:8.3f}s  {' '.join(statement.split())[:150]}")
    if wal_records:
        _print_wal_records(wal_kinds, steps)
    return {
        "agents": n,
        "history": history * 3,
        **{p: seconds[p] for p in PHASES},
        "overhead_step": sum(seconds.values()) / steps,
        "sql_step": sum(sql.values()) / steps,
        **{f"sql_{p}": sql[p] for p in PHASES},
        **{f"db_{p}": db_seconds[p] for p in PHASES},
        **{f"wal_mb_{p}": wal_written[p] for p in PHASES},
    }


def _print_wal_records(kinds: dict[tuple[str, str], list[int]], steps: int) -> None:
    """The WAL of each phase by record type, largest first (records of 1 % of a phase's
    bytes or more)."""
    table = Table(title="WAL by phase and record type (per step)")
    for c in ("phase", "record type", "records", "MB", "share"):
        table.add_column(c, justify="left" if c in ("phase", "record type") else "right")
    for phase in PHASES:
        rows = sorted(
            ((kind, c, b) for (p, kind), (c, b) in kinds.items() if p == phase),
            key=lambda r: -r[2],
        )
        total = sum(b for _, _, b in rows)
        for kind, count, size in rows:
            if total and size >= total / 100:
                table.add_row(
                    phase,
                    kind,
                    f"{count / steps:.0f}",
                    f"{size / steps / 1e6:.2f}",
                    f"{100 * size / total:.0f} %",
                )
    Console(width=200).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, nargs="+", default=[1000])
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--fleet", choices=FLEETS, default="letta", help="see bench/fleet.py")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--phase", nargs="*", choices=PHASES, default=[], help="profile only these")
    parser.add_argument("--slowest", type=int, default=8, help="list this many slowest statements")
    parser.add_argument(
        "--keep-db", action="store_true", help="keep the database (pg_stat_user_tables, sizes)"
    )
    parser.add_argument(
        "--history",
        type=int,
        nargs="+",
        default=[0],
        help="finished turns (3 messages each) every agent has before the job; one row per value",
    )
    parser.add_argument(
        "--three-phase",
        action="store_true",
        help="decide → tools → persist instead of settle (runs started before settle-step)",
    )
    parser.add_argument(
        "--wal-records",
        action="store_true",
        help="break each phase's WAL down by record type (pg_walinspect; superuser)",
    )
    args = parser.parse_args()
    rows = []
    tune_gc()  # as worker.py does
    for n, history in ((n, h) for n in args.agents for h in args.history):
        profiler = cProfile.Profile() if args.profile else None
        rows.append(
            asyncio.run(
                run(
                    n,
                    args.steps,
                    profiler,
                    set(args.phase),
                    args.fleet,
                    slowest=args.slowest,
                    keep_db=args.keep_db,
                    history=history,
                    three_phase=args.three_phase,
                    wal_records=args.wal_records,
                )
            )
        )
        if profiler is not None:
            profiler.dump_stats(f"/tmp/profile_phases_{n}.prof")  # for pstats callers/callees
            for key in ("cumulative", "tottime"):
                buf = io.StringIO()
                pstats.Stats(profiler, stream=buf).sort_stats(key).print_stats(args.top)
                print(f"--- N={n}, top {args.top} by {key} ---")
                print(buf.getvalue())
    table = Table(title=f"phases in isolation ({args.steps} steps, seconds summed over steps)")
    cols = [
        "agents",
        "history",
        *PHASES,
        "overhead_step",
        "sql_step",
        *(f"sql_{p}" for p in PHASES),
        *(f"db_{p}" for p in PHASES),
        *(f"wal_mb_{p}" for p in PHASES),
    ]
    for c in cols:
        table.add_column(c.replace("_step", "/step"), justify="right")
    for r in rows:
        table.add_row(*(f"{r[c]:.2f}" if isinstance(r[c], float) else str(r[c]) for c in cols))
    Console(width=300).print(table)


if __name__ == "__main__":
    main()
