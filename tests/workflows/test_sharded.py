"""Shards: every agent in exactly one contiguous slice, outputs that add up, bad input named."""

from __future__ import annotations

from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import func, select

from letta_batch.client import LettaBatchClient
from letta_batch.config import Settings
from letta_batch.contracts import ApplyDecisionsOutput, BuildRequestsOutput, Shard
from letta_batch.db.engine import create_engine
from letta_batch.db.models_batch import BatchJobRow
from letta_batch.providers.base import BatchLimits
from letta_batch.services.runtime import ServiceContext
from letta_batch.services.shards import agents_of, chunk_size, owns_part
from letta_batch.services.submit import SubmissionError
from letta_batch.stepping.batch_parts import PartPlanner
from workflows.sharded import merged, shard_label


@given(agents=st.integers(min_value=0, max_value=500), count=st.integers(min_value=1, max_value=9))
def test_slices_cover_every_agent_once_in_order(agents: int, count: int) -> None:
    ids = [f"agent-{i:04d}" for i in range(agents)]
    slices = [agents_of(Shard(index=i, count=count), ids) for i in range(count)]
    assert [a for s in slices for a in s] == ids  # contiguous, in order, each agent once
    assert max(map(len, slices)) - min(map(len, slices)) <= 1


@given(count=st.integers(min_value=1, max_value=7), parts=st.integers(min_value=1, max_value=20))
def test_each_shard_owns_exactly_the_parts_its_planner_numbers(count: int, parts: int) -> None:
    limits = BatchLimits(max_requests=1, max_bytes=10**9, body_overhead=20, request_overhead=30)
    for index in range(count):
        planner = PartPlanner(limits, first=index, stride=count)
        numbers = [planner.place(f"id{i}", 10) for i in range(parts)]
        assert numbers == [index + count * i for i in range(parts)]
        assert all(
            owns_part(Shard(index=j, count=count), n) == (j == index)
            for n in numbers
            if n is not None
            for j in range(count)
        )


def test_a_shard_index_outside_the_count_is_refused_with_its_field() -> None:
    with pytest.raises(ValidationError, match=r"shard\.index: 2 is not below shard\.count 2"):
        Shard(index=2, count=2)
    with pytest.raises(ValidationError, match="count"):
        Shard(index=0, count=0)


def test_merged_outputs_add_counts_and_keep_the_rest() -> None:
    built = merged(
        [
            BuildRequestsOutput(llm_batch_id="b", request_count=2, failed_count=1),
            BuildRequestsOutput(llm_batch_id="b", request_count=3),
        ]
    )
    assert built == BuildRequestsOutput(llm_batch_id="b", request_count=5, failed_count=1)
    decided = merged([ApplyDecisionsOutput(continuing=1, builtin_calls=2)] * 3)
    assert (decided.continuing, decided.builtin_calls, decided.failed) == (3, 6, 0)
    one = ApplyDecisionsOutput(stopping=4)
    assert merged([one]) is one


def test_single_shard_summaries_are_unchanged() -> None:
    assert shard_label(Shard()) == ""
    assert shard_label(Shard(index=1, count=3)) == " (shard 2/3)"


@pytest.mark.parametrize(
    ("shards", "problem"),
    [
        (2, "shards: 2 needs PostgreSQL; the embedded SQLite database runs 1"),
        (0, "shards: must be an integer of at least 1, got 0"),
    ],
)
async def test_shards_sqlite_cannot_run_are_refused_before_anything_is_written(
    sqlite_migrated_url: str, shards: int, problem: str
) -> None:
    ctx = ServiceContext(
        engine=create_engine(sqlite_migrated_url),
        settings=Settings(database_url=sqlite_migrated_url),
    )
    try:
        # No Temporal client is needed: the check comes before the job is stored or started.
        client = LettaBatchClient(cast(Any, None), ctx)
        with pytest.raises(SubmissionError) as refused:
            await client.submit(
                {"requests": [{"agent_id": "agent-x", "input": "hi"}]}, shards=shards
            )
        assert refused.value.problems == [problem]
        async with ctx.session_factory() as session:
            assert await session.scalar(select(func.count()).select_from(BatchJobRow)) == 0
    finally:
        await ctx.aclose()


def test_shards_share_one_chunk_of_memory() -> None:
    assert chunk_size(10_000, Shard()) == 10_000
    assert chunk_size(10_000, Shard(index=1, count=2)) == 5_000
    assert chunk_size(10_000, Shard(index=2, count=3)) == 3_333
    assert chunk_size(2, Shard(index=0, count=4)) == 1  # never zero
