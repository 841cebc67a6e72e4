"""PartPlanner: every part fits the provider's limits, parts are filled greedily in order,
and the planned byte size is exactly the size of the body the adapter sends."""

from __future__ import annotations

import asyncio
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from letta_batch.providers.anthropic.batch_body import LIMITS, build_body
from letta_batch.stepping.batch_parts import PartPlanner

SMALL = LIMITS.narrowed(max_requests=3, max_bytes=400)


def _params(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes (size >= 9)."""
    return b'{"a":"' + b"x" * (size - 8) + b'"}'


def _plan(sizes: list[int], limits=SMALL) -> tuple[list[int | None], PartPlanner]:
    planner = PartPlanner(limits)
    placed = [planner.place(f"batch_item-{i:04d}", len(_params(n))) for i, n in enumerate(sizes)]
    return placed, planner


def test_parts_split_on_the_request_limit() -> None:
    placed, planner = _plan([20] * 7)
    assert placed == [0, 0, 0, 1, 1, 1, 2]
    assert [p.request_count for p in planner.parts()] == [3, 3, 1]


def test_parts_split_on_the_byte_limit() -> None:
    placed, planner = _plan([180, 180, 180, 20])
    assert placed == [0, 1, 2, 2]
    assert all(p.request_bytes <= SMALL.max_bytes for p in planner.parts())


def test_a_request_no_batch_can_hold_is_not_placed() -> None:
    placed, planner = _plan([20, 500, 20])
    assert placed == [0, None, 0]
    assert [p.request_count for p in planner.parts()] == [2]
    assert "more than one provider batch may hold (400 bytes)" in planner.oversize_reason(500)


def test_no_requests_no_parts() -> None:
    assert PartPlanner(SMALL).parts() == []


def test_default_limits_are_anthropics() -> None:
    assert (LIMITS.max_requests, LIMITS.max_bytes) == (100_000, 256 * 1024 * 1024)
    assert LIMITS.narrowed(None, None) == LIMITS
    assert LIMITS.narrowed(10**9, 10**12) == LIMITS  # settings can lower, never raise


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=9, max_value=450), max_size=40))
def test_every_part_fits_is_full_and_measured_exactly(sizes: list[int]) -> None:
    placed, planner = _plan(sizes)
    parts = planner.parts()
    # Order is kept and parts are contiguous.
    numbers = [p for p in placed if p is not None]
    assert numbers == sorted(numbers)
    assert [p.part for p in parts] == list(range(len(parts)))
    for part in parts:
        members = [i for i, p in enumerate(placed) if p == part.part]
        assert len(members) == part.request_count <= SMALL.max_requests
        body = asyncio.run(
            build_body(
                [(f"batch_item-{i:04d}", _params(sizes[i])) for i in members],
                max_requests=SMALL.max_requests,
                max_bytes=SMALL.max_bytes,
            )
        )
        assert body.size == len(body.to_bytes()) == part.request_bytes <= SMALL.max_bytes
    # Greedy: the next part's first request would not have fitted the part before it.
    for before, after in itertools.pairwise(parts):
        first = placed.index(after.part)
        grown = before.request_bytes + SMALL.request_bytes(
            f"batch_item-{first:04d}", len(_params(sizes[first]))
        )
        assert before.request_count == SMALL.max_requests or grown > SMALL.max_bytes
    # Unplaced requests are exactly those too large for any batch.
    for i, p in enumerate(placed):
        alone = SMALL.body_overhead + SMALL.request_bytes(f"batch_item-{i:04d}", sizes[i])
        assert (p is None) == (alone > SMALL.max_bytes)
