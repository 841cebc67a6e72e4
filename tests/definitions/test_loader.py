"""``load_definitions`` against real databases: all-or-nothing, idempotent, updates."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import func, select

from letta_batch.db import create_engine
from letta_batch.db import models as m
from letta_batch.db import session_factory as session_factory_for
from letta_batch.definitions import DefinitionError, DefinitionsFile, load_definitions
from letta_batch.repositories import (
    load_agents,
    load_in_context_messages,
    load_tools_by_name,
    update_block_values,
)
from letta_batch.schemas import MessageRole
from tests.definitions.factories import agent, custom_tool, definitions

TABLES = (m.agents, m.tools, m.blocks, m.agents_blocks, m.agents_tools, m.messages)


async def _counts(factory, org_id: str) -> dict[str, int]:
    out = {}
    async with factory() as session:
        for table in TABLES:
            if "organization_id" in table.c:
                stmt = select(func.count()).where(table.c.organization_id == org_id)
            else:
                a = m.agents
                stmt = (
                    select(func.count())
                    .select_from(table.join(a, a.c.id == table.c.agent_id))
                    .where(a.c.organization_id == org_id)
                )
            out[table.name] = (await session.execute(stmt)).scalar_one()
    return out


async def _load(factory, org_id, data, **kwargs):
    async with factory() as session, session.begin():
        return await load_definitions(session, org_id, data, **kwargs)


async def test_one_bad_entry_writes_nothing(session_factory, org_id) -> None:
    data = definitions(5)
    data["agents"][3]["tool_rules"].append({"type": "exit_loop", "tool_name": "nope"})
    data["agents"].append(agent("bad-model", model="openai/gpt-4o"))
    before = await _counts(session_factory, org_id)
    with pytest.raises(DefinitionError) as info:
        await _load(session_factory, org_id, data)
    assert await _counts(session_factory, org_id) == before == dict.fromkeys(before, 0)
    lines = info.value.lines
    assert "agents[3].tool_rules[2].tool_name: 'nope' is not a tool of agent 'agent-00003'" in lines
    assert any(line.startswith("agents[5].model: 'openai/gpt-4o'") for line in lines)
    assert len(lines) == 2
    assert "2 problems" in str(info.value)


async def test_load_creates_agents_with_system_message(session_factory, org_id) -> None:
    result = await _load(session_factory, org_id, definitions(3))
    assert [e.status for e in result.agents] == ["created"] * 3
    assert result.tools[0].name == "lookup_order" and not result.tools[0].builtin
    assert sum(e.builtin for e in result.tools) == 10
    async with session_factory() as session:
        agents = await load_agents(session, org_id, result.agent_ids.values())
        context = await load_in_context_messages(session, org_id, agents.values())
    for agent_ in agents.values():
        (system,) = context[agent_.id]
        assert system.role == MessageRole.system and system.text() == f"You are {agent_.name}."
        assert agent_.message_ids == [system.id]
    counts = await _counts(session_factory, org_id)
    assert counts["agents"] == 3 and counts["messages"] == 3 and counts["tools"] == 11
    assert counts["blocks"] == counts["agents_blocks"] == 2 + 3 + 2


async def test_reload_is_idempotent(session_factory, org_id) -> None:
    data = definitions(4)
    first = await _load(session_factory, org_id, data)
    counts = await _counts(session_factory, org_id)
    second = await _load(session_factory, org_id, copy.deepcopy(data))
    assert second.agent_ids == first.agent_ids and second.tool_ids == first.tool_ids
    assert {e.status for e in second.agents + second.tools} == {"unchanged"}
    assert await _counts(session_factory, org_id) == counts
    # The pydantic file model loads the same way.
    third = await _load(session_factory, org_id, DefinitionsFile.model_validate(data))
    assert third.agent_ids == first.agent_ids


async def test_changed_fields_are_updated(session_factory, org_id) -> None:
    data = definitions(3)
    first = await _load(session_factory, org_id, data)
    data["tools"][0]["description"] = "Look up an order by number (v2)."
    data["agents"][1]["system"] = "You are the new agent-00001."
    data["agents"][2]["model"] = "anthropic/claude-haiku-4-5"
    result = await _load(session_factory, org_id, data)
    assert result.tool_ids == first.tool_ids and result.agent_ids == first.agent_ids
    assert [e.status for e in result.agents] == ["unchanged", "updated", "updated"]
    assert result.tools[0].status == "updated"
    async with session_factory() as session:
        tool = (await load_tools_by_name(session, org_id, ["lookup_order"]))["lookup_order"]
        agents = await load_agents(session, org_id, result.agent_ids.values())
    assert tool.description == "Look up an order by number (v2)."
    by_name = {a.name: a for a in agents.values()}
    assert by_name["agent-00001"].system == "You are the new agent-00001."
    assert by_name["agent-00002"].llm_config.model == "claude-haiku-4-5"
    assert len(by_name["agent-00001"].message_ids) == 1  # history untouched


async def test_block_values_survive_reload_unless_the_file_changes(session_factory, org_id) -> None:
    data = definitions(1)
    agent_id = (await _load(session_factory, org_id, data)).agent_ids["agent-00000"]

    async def human() -> tuple[str, int]:
        async with session_factory() as session:
            block = (await load_agents(session, org_id, [agent_id]))[agent_id].block("human")
        return block.value, block.version

    async with session_factory() as session:
        block_id = (await load_agents(session, org_id, [agent_id]))[agent_id].block("human").id
    async with session_factory() as session, session.begin():
        await update_block_values(session, org_id, {block_id: ("The user is Ada.", 1)})
    # re-loading the unchanged file keeps what the agent learned
    result = await _load(session_factory, org_id, data)
    assert result.agents[0].status == "unchanged"
    assert await human() == ("The user is Ada.", 2)
    # a changed value in the file wins
    data["agents"][0]["memory_blocks"][1]["value"] = "Reset by the operator."
    assert (await _load(session_factory, org_id, data)).agents[0].status == "updated"
    assert await human() == ("Reset by the operator.", 3)
    # reset_memory forces the file's value even when the file did not change
    async with session_factory() as session, session.begin():
        await update_block_values(session, org_id, {block_id: ("edited again", None)})
    await _load(session_factory, org_id, data, reset_memory=True)
    assert await human() == ("Reset by the operator.", 5)


@pytest.fixture(params=["postgresql", "sqlite"])
async def factory_and_org(request, session_factory, org_id, sqlite_migrated_url):
    """(session factory, organization id) on each dialect."""
    if request.param == "postgresql":
        yield session_factory, org_id
        return
    engine = create_engine(sqlite_migrated_url)
    yield session_factory_for(engine), "org-s"
    await engine.dispose()


async def test_blocks_and_tools_follow_the_file(factory_and_org) -> None:
    session_factory, org_id = factory_and_org
    data = definitions(1)
    agent_id = (await _load(session_factory, org_id, data)).agent_ids["agent-00000"]
    entry = data["agents"][0]
    entry["memory_blocks"] = [
        {"label": "human", "value": "Unknown user.", "limit": 5000, "description": "The user."},
        {"label": "goals", "value": "Ship it.", "limit": 100},
    ]  # persona removed, order changed, goals added
    entry["tool_rules"] = []
    entry["include_base_tools"] = False
    entry["tools"] = ["send_message"]
    result = await _load(session_factory, org_id, data)
    assert result.agents[0].status == "updated"
    async with session_factory() as session:
        loaded = (await load_agents(session, org_id, [agent_id]))[agent_id]
    assert [b.label for b in loaded.blocks] == ["human", "goals"]
    assert [t.name for t in loaded.tools] == ["send_message"]
    assert loaded.tool_rules == []
    counts = await _counts(session_factory, org_id)
    assert counts["blocks"] == 2 and counts["agents_tools"] == 1  # detached block deleted


async def test_agents_can_use_tools_loaded_earlier(session_factory, org_id) -> None:
    await _load(session_factory, org_id, {"tools": [custom_tool()]})
    later = {"agents": [agent("late")]}  # uses lookup_order, which is only in the database
    result = await _load(session_factory, org_id, later)
    async with session_factory() as session:
        loaded = await load_agents(session, org_id, result.agent_ids.values())
    assert "lookup_order" in {t.name for t in next(iter(loaded.values())).tools}
    # ...but another organization does not see it
    with pytest.raises(DefinitionError, match="'lookup_order' is not a defined"):
        await _load(session_factory, "org-elsewhere", later)


async def test_load_on_sqlite(sqlite_migrated_url: str) -> None:
    engine = create_engine(sqlite_migrated_url)
    factory = session_factory_for(engine)
    try:
        first = await _load(factory, "org-s", definitions(3))
        second = await _load(factory, "org-s", definitions(3))
        assert second.agent_ids == first.agent_ids
        async with factory() as session:
            agents = await load_agents(session, "org-s", first.agent_ids.values())
            context = await load_in_context_messages(session, "org-s", agents.values())
        assert len(agents) == 3 and all(len(v) == 1 for v in context.values())
    finally:
        await engine.dispose()
