"""WAL written and checkpoints run by PostgreSQL between two readings.

A step's writes are WAL-logged, and the first change to a page after a checkpoint logs the
whole 8 KB page (a full-page image). PostgreSQL starts a checkpoint whenever about half of
``max_wal_size`` (1 GB by default) has been written since the last one, so a job that
writes several GB runs one checkpoint after another and logs most pages it touches whole,
again and again: its WAL, and the I/O spent on it, grow faster than its size (at 100,000
agents 3.8 GB per step instead of 1.6; the CPU time did not change, bench/README.md). The
benchmarks report both figures so that this shows, and so that a run a checkpoint happened
to fall into can be told from one it did not.

Readings go over a connection of their own (not the counted engine) and are cluster-wide:
anything else writing to the same PostgreSQL counts too.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

_READING = """
SELECT pg_current_wal_lsn() - '0/0'::pg_lsn,
       (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter)
"""


@dataclass(frozen=True)
class WalReading:
    """Where the WAL was, and how many checkpoints had run, at one moment."""

    lsn: int
    checkpoints: int


class WalMeter:
    """Read WAL position and checkpoint count on a connection of its own."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self._walinspect = False

    @classmethod
    async def connect(cls, sqlalchemy_url: str) -> WalMeter:
        """A meter on the database of ``sqlalchemy_url`` (``postgresql+asyncpg://…``)."""
        return cls(await asyncpg.connect(sqlalchemy_url.replace("+asyncpg", "", 1)))

    async def read(self) -> WalReading:
        lsn, checkpoints = await self._conn.fetchrow(_READING)
        return WalReading(lsn=int(lsn), checkpoints=int(checkpoints))

    async def settings(self) -> str:
        """The settings the WAL and checkpoint figures depend on (how often checkpoints come,
        whether full-page images are compressed, the buffer cache), e.g. ``max_wal_size=1GB``."""
        names = ("max_wal_size", "checkpoint_timeout", "wal_compression", "shared_buffers")
        values = await self._conn.fetchrow(
            "SELECT " + ", ".join(f"current_setting('{name}')" for name in names)
        )
        return ", ".join(f"{name}={value}" for name, value in zip(names, values, strict=True))

    async def record_stats(
        self, before: WalReading, after: WalReading
    ) -> dict[str, tuple[int, int]]:
        """What the WAL between the two readings holds, by record type (``Heap/INSERT``,
        ``Btree/INSERT_LEAF``…): count and bytes, full-page images included.

        Reads the WAL files through ``pg_walinspect`` (created on first use; superuser).
        Empty when a checkpoint has already recycled them."""
        if not self._walinspect:
            await self._conn.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
            self._walinspect = True
        try:
            rows = await self._conn.fetch(
                'SELECT "resource_manager/record_type" AS kind, count, combined_size'
                " FROM pg_get_wal_stats($1::pg_lsn, $2::pg_lsn, true) WHERE count > 0",
                before.lsn,
                after.lsn,
            )
        except asyncpg.PostgresError:
            return {}
        return {r["kind"]: (int(r["count"]), int(r["combined_size"])) for r in rows}

    async def close(self) -> None:
        await self._conn.close()


def wal_mb(before: WalReading, after: WalReading) -> float:
    """Megabytes of WAL written between the two readings."""
    return (after.lsn - before.lsn) / 1e6
