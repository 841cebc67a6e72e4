"""How build splits a shard's agents into rounds (by agents and by context size)."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from letta_batch.repositories.agents import set_message_ids
from letta_batch.services.build_chunks import context_sizes, plan_rounds
from tests.tools.seed import AgentSpec, seed_agents


def test_rounds_end_at_the_agent_count_or_the_message_budget() -> None:
    sizes = {"a": 3, "b": 3, "c": 5, "d": 1, "e": 1, "f": 1}
    ids = list(sizes)
    assert plan_rounds(ids, sizes, max_agents=10, max_messages=6) == [
        ["a", "b"],
        ["c", "d"],
        ["e", "f"],
    ]
    assert plan_rounds(ids, sizes, max_agents=2, max_messages=100) == [
        ["a", "b"],
        ["c", "d"],
        ["e", "f"],
    ]


def test_an_agent_over_the_budget_gets_a_round_of_its_own() -> None:
    sizes = {"a": 1, "huge": 50, "b": 1}
    assert plan_rounds(list(sizes), sizes, max_agents=10, max_messages=4) == [
        ["a"],
        ["huge"],
        ["b"],
    ]


def test_unknown_agents_count_as_one_message_and_bad_limits_are_refused() -> None:
    assert plan_rounds(["x", "y", "z"], {}, max_agents=10, max_messages=2) == [["x", "y"], ["z"]]
    with pytest.raises(ValueError, match="max_messages"):
        plan_rounds(["x"], {}, max_agents=1, max_messages=0)


@given(
    sizes=st.lists(st.integers(min_value=0, max_value=40), max_size=60),
    max_agents=st.integers(min_value=1, max_value=8),
    max_messages=st.integers(min_value=1, max_value=60),
)
def test_rounds_keep_every_agent_once_in_order_within_both_limits(
    sizes: list[int], max_agents: int, max_messages: int
) -> None:
    ids = [f"agent-{i}" for i in range(len(sizes))]
    by_id = dict(zip(ids, sizes, strict=True))
    rounds = plan_rounds(ids, by_id, max_agents=max_agents, max_messages=max_messages)
    assert [a for r in rounds for a in r] == ids
    for r in rounds:
        assert 1 <= len(r) <= max_agents
        total = sum(max(1, by_id[a]) for a in r)
        assert total <= max_messages or len(r) == 1
    # Greedy: a round ends only because the next agent would not fit.
    for r, following in pairwise(rounds):
        total = sum(max(1, by_id[a]) for a in r)
        assert len(r) == max_agents or total + max(1, by_id[following[0]]) > max_messages


async def test_context_sizes_are_the_lengths_of_message_ids(session_factory, org_id) -> None:
    async with session_factory() as session, session.begin():
        agents = await seed_agents(session, org_id, [AgentSpec("short"), AgentSpec("long")])
        short, long = agents["short"], agents["long"]
        await set_message_ids(
            session, org_id, {long.id: [*long.message_ids, *(f"m-{i}" for i in range(7))]}
        )
    async with session_factory() as session:
        sizes = await context_sizes(session, org_id, [short.id, long.id, "agent-missing"])
    assert sizes == {short.id: len(short.message_ids), long.id: len(long.message_ids) + 7}
