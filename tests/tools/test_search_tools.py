"""conversation_search and archival_memory_search (PostgreSQL full-text)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event

from letta_batch import ids
from letta_batch.repositories import insert_messages
from letta_batch.schemas import Message, MessageRole, TextContent, ToolCall, ToolCallFunction
from letta_batch.tools import BuiltinCall, execute_builtin_calls
from letta_batch.tools.builtin.search_batch import SearchCall, conversation_search_many
from tests.tools.seed import AgentSpec, seed_agents

TOOLS = ("conversation_search", "archival_memory_insert", "archival_memory_search")


def msg(agent_id: str, role: str, text: str, at: datetime, tool: str | None = None) -> Message:
    calls = None
    if tool:
        args = json.dumps({"query": text} if tool == "conversation_search" else {"message": text})
        calls = [
            ToolCall(
                id=f"toolu_{ids.new_id('x')[-6:]}",
                function=ToolCallFunction(name=tool, arguments=args),
            )
        ]
    return Message(
        id=ids.new_id(ids.MESSAGE),
        agent_id=agent_id,
        role=MessageRole(role),
        content=[] if tool else [TextContent(text=text)],
        tool_calls=calls,
        created_at=at,
    )


async def setup(session_factory, org_id, tz="UTC"):
    async with session_factory() as session, session.begin():
        agents = await seed_agents(session, org_id, [AgentSpec(name="a", tools=TOOLS, timezone=tz)])
        agent = agents["a"]
        base = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)
        await insert_messages(
            session,
            org_id,
            [
                msg(agent.id, "system", "You are a helpful agent about coffee", base),
                msg(agent.id, "user", "I love drinking coffee in the morning", base),
                msg(
                    agent.id,
                    "assistant",
                    "Coffee is great, noted!",
                    base + timedelta(days=1),
                    tool="send_message",
                ),
                msg(agent.id, "tool", "coffee tool output", base + timedelta(days=1)),
                msg(
                    agent.id,
                    "assistant",
                    "coffee",
                    base + timedelta(days=2),
                    tool="conversation_search",
                ),
                msg(agent.id, "user", "Tea is fine too", base + timedelta(days=3)),
            ],
        )
    return agent


async def search(session_factory, org_id, agent, tool, n=1, tz="UTC", **args):
    c = BuiltinCall(
        item_id=f"item-{agent.id}-{n}",
        call_id=f"toolu_{n}",
        agent_id=agent.id,
        tool_name=tool,
        args=args,
        agent_timezone=tz,
    )
    async with session_factory() as session, session.begin():
        out = await execute_builtin_calls(session, org_id, [c])
    return out.results[c.key]


async def test_conversation_search_matches_and_excludes(session_factory, org_id):
    agent = await setup(session_factory, org_id)
    result = await search(session_factory, org_id, agent, "conversation_search", query="coffee")
    value = result.func_return
    assert value["message"] == "Showing 2 results:"
    contents = [(r["role"], r["content"]) for r in value["results"]]
    assert contents == [
        ("assistant", "Coffee is great, noted!"),
        ("user", "I love drinking coffee in the morning"),
    ]
    first = value["results"][0]
    assert first["timestamp"] == "2024-01-16T12:00:00+00:00"
    assert first["time_ago"].endswith("d ago")
    assert json.loads(result.func_response) == value


async def test_conversation_search_roles_limit_dates_and_no_results(session_factory, org_id):
    agent = await setup(session_factory, org_id)
    only_user = await search(
        session_factory, org_id, agent, "conversation_search", 1, query="coffee", roles=["user"]
    )
    assert [r["role"] for r in only_user.func_return["results"]] == ["user"]
    newest = await search(session_factory, org_id, agent, "conversation_search", 2, limit=1)
    assert [r["content"] for r in newest.func_return["results"]] == ["Tea is fine too"]
    # Date-only bounds are inclusive whole days in the agent's timezone.
    day = await search(
        session_factory,
        org_id,
        agent,
        "conversation_search",
        3,
        start_date="2024-01-16",
        end_date="2024-01-16",
    )
    assert [r["content"] for r in day.func_return["results"]] == ["Coffee is great, noted!"]
    # In Tokyo (UTC+9) 2024-01-15 12:00 UTC is already the 15th at 21:00, the 16th's is the 16th.
    tokyo = await search(
        session_factory,
        org_id,
        agent,
        "conversation_search",
        4,
        tz="Asia/Tokyo",
        start_date="2024-01-15",
        end_date="2024-01-15T20:59",
    )
    assert tokyo.func_return == {"message": "No results found.", "results": []}
    bad = await search(
        session_factory, org_id, agent, "conversation_search", 5, start_date="yesterday"
    )
    assert bad.status == "error"
    assert bad.func_response == (
        "Invalid start_date format: yesterday. Use ISO 8601 format (YYYY-MM-DD or YYYY-MM-DDTHH:MM)"
    )


async def test_archival_insert_then_search_with_tags(session_factory, org_id):
    agent = await setup(session_factory, org_id)
    facts = [
        ("Meeting about the API redesign", ["meetings", "api"]),
        ("The API uses JSON over HTTP", ["api"]),
        ("Lunch meeting at noon", ["meetings"]),
    ]
    calls = [
        BuiltinCall(
            item_id=f"item-ins-{agent.id}",
            call_id=f"toolu_{i}",
            agent_id=agent.id,
            tool_name="archival_memory_insert",
            args={"content": t, "tags": tags},
            index=i,
        )
        for i, (t, tags) in enumerate(facts)
    ]
    async with session_factory() as session, session.begin():
        out = await execute_builtin_calls(session, org_id, calls)
    assert [out.results[c.key].func_response for c in calls] == ["None"] * 3
    assert out.memory_changed_agents == {agent.id}

    found = await search(session_factory, org_id, agent, "archival_memory_search", 1, query="API")
    assert {r["content"] for r in found.func_return} == {facts[0][0], facts[1][0]}
    assert set(found.func_return[0]) == {"id", "timestamp", "content", "tags"}
    any_tag = await search(
        session_factory,
        org_id,
        agent,
        "archival_memory_search",
        2,
        query="meeting",
        tags=["api", "nothing"],
    )
    assert [r["content"] for r in any_tag.func_return] == [facts[0][0]]
    all_tags = await search(
        session_factory,
        org_id,
        agent,
        "archival_memory_search",
        3,
        query="meeting",
        tags=["meetings", "api"],
        tag_match_mode="all",
    )
    assert [r["tags"] for r in all_tags.func_return] == [["meetings", "api"]]
    top1 = await search(
        session_factory, org_id, agent, "archival_memory_search", 4, query="meeting", top_k=1
    )
    assert len(top1.func_return) == 1
    future = await search(
        session_factory,
        org_id,
        agent,
        "archival_memory_search",
        5,
        query="API",
        start_datetime="2999-01-01",
    )
    assert future.func_return == []
    blank = await search(session_factory, org_id, agent, "archival_memory_search", 6, query="  ")
    assert blank.func_return == [] and blank.func_response == "[]"


async def test_searches_read_the_stored_vectors_instead_of_computing_them(
    engine, session_factory, org_id
):
    """Matching and ranking use ``search_vector`` (migration 0006): computing
    ``to_tsvector`` for every candidate row of every search made it 5x slower."""
    agent = await setup(session_factory, org_id)
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        found = await search(session_factory, org_id, agent, "conversation_search", query="tea")
        await search(session_factory, org_id, agent, "archival_memory_search", 2, query="tea")
        async with session_factory() as session:
            await conversation_search_many(
                session, org_id, [SearchCall(agent.id, ZoneInfo("UTC"), {"query": "tea"})]
            )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    searches = [s for s in statements if "plainto_tsquery" in s]
    assert len(searches) == 3
    assert all("search_vector" in s and "to_tsvector" not in s for s in searches), searches
    assert found.status == "success" and "Tea is fine too" in found.func_response
