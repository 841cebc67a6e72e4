"""Many conversation_search calls in one call set: one statement, same results as one by one."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from letta_batch.db.engine import StatementCounter
from letta_batch.tools.builtin.search import conversation_search
from letta_batch.tools.builtin.search_batch import SearchCall, conversation_search_many
from tests.tools.test_search_tools import setup

ARGS = [
    {"query": "coffee"},
    {"query": "coffee", "roles": ["user"]},
    {"limit": 1},
    {"query": "   "},
    {"start_date": "2024-01-16", "end_date": "2024-01-16"},
    {"query": "coffee", "limit": 0},
    {"query": "nothing-matches-this"},
    {"start_date": "yesterday"},
    {"query": "tea", "bogus": 1},
]


async def test_batched_searches_equal_single_searches_in_one_statement(
    engine, session_factory, org_id
):
    agent = await setup(session_factory, org_id)
    tz = ZoneInfo("Asia/Tokyo")
    calls = [SearchCall(agent.id, tz, args) for args in ARGS]
    async with session_factory() as session:
        with StatementCounter(engine) as counter:
            batched = await conversation_search_many(session, org_id, calls)
        single: list[object] = []
        for args in ARGS:
            try:
                single.append(await conversation_search(session, org_id, agent.id, tz, **args))
            except (ValueError, TypeError) as exc:
                single.append(exc)
    # One statement for every plannable call; the two bad calls raise before any SQL.
    assert counter.count == 1
    for got, want in zip(batched, single, strict=True):
        if isinstance(want, Exception):
            assert type(got) is type(want) and str(got) == str(want)
            continue
        assert isinstance(got, dict) and isinstance(want, dict)
        strip = [{k: v for k, v in r.items() if k != "time_ago"} for r in want["results"]]
        assert [{k: v for k, v in r.items() if k != "time_ago"} for r in got["results"]] == strip
        assert got["message"] == want["message"]
    assert batched[0]["results"]  # type: ignore[index]
