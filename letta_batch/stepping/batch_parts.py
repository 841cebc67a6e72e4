"""Split one step's requests into provider batches that each fit the provider's limits.

Greedy and in request order: a request goes into the current part if both the part's
request count and its exact body size stay within the limits, otherwise it opens the next
part. The same requests in the same order always give the same parts, so a rebuilt step is
split exactly as before. A request too large for any batch on its own is not placed; the
caller fails that agent with `oversize_reason`.
"""

from __future__ import annotations

from dataclasses import dataclass

from letta_batch.providers.base import BatchLimits


@dataclass(frozen=True)
class PlannedPart:
    """One provider batch of a step, as planned."""

    part: int
    request_count: int
    request_bytes: int
    """Exact size of the part's create body."""


class PartPlanner:
    """Assigns each request of a step to a part (a provider batch), in order.

    Parts are numbered ``first``, ``first + stride``, …: a step built by several shards
    interleaves their numbers (shard ``i`` of ``n`` uses ``first=i, stride=n``).
    """

    def __init__(self, limits: BatchLimits, *, first: int = 0, stride: int = 1) -> None:
        self.limits = limits
        self.first = first
        self.stride = stride
        self._parts: list[PlannedPart] = []
        self._count = 0
        self._bytes = limits.body_overhead

    def place(self, custom_id: str, params_bytes: int) -> int | None:
        """The part this request goes into, or None when it fits no batch at all."""
        size = self.limits.request_bytes(custom_id, params_bytes)
        if self.limits.body_overhead + size > self.limits.max_bytes:
            return None
        if self._count and (
            self._count >= self.limits.max_requests or self._bytes + size > self.limits.max_bytes
        ):
            self._close()
        self._count += 1
        self._bytes += size
        return self._number(len(self._parts))

    def oversize_reason(self, params_bytes: int) -> str:
        return (
            f"request_body: {params_bytes:,} bytes, more than one provider batch may hold "
            f"({self.limits.max_bytes:,} bytes)"
        )

    def parts(self) -> list[PlannedPart]:
        """Every part holding at least one request, in order."""
        if self._count:
            self._close()
        return list(self._parts)

    def _number(self, index: int) -> int:
        return self.first + self.stride * index

    def _close(self) -> None:
        self._parts.append(PlannedPart(self._number(len(self._parts)), self._count, self._bytes))
        self._count = 0
        self._bytes = self.limits.body_overhead
