"""Agent loading: relations, ordering, organization scoping, constant query count."""

from __future__ import annotations

from letta_batch import ids
from letta_batch.db import StatementCounter
from letta_batch.repositories import (
    agent_ids_by_name,
    ensure_organization,
    list_agents,
    load_agents,
    load_agents_by_name,
    load_in_context_messages,
)
from letta_batch.tool_rules import ConditionalToolRule, InitToolRule, TerminalToolRule
from tests.repositories.helpers import seed


async def test_load_agents_with_relations(session_factory, org_id) -> None:
    agent_ids = await seed(session_factory, org_id, 2)
    async with session_factory() as session:
        agents = await load_agents(session, org_id, [*agent_ids.values(), "agent-missing"])
    assert set(agents) == set(agent_ids.values())
    odd = agents[agent_ids["agent-00001"]]
    assert [b.label for b in odd.blocks] == ["persona", "human", "notes"]  # file order
    assert odd.block("human").description == "The user."
    assert odd.block("persona").version == 1
    names = [t.name for t in odd.tools]
    assert names == sorted(names)
    assert "lookup_order" in names and "send_message" in names
    assert odd.tool("lookup_order").json_schema["parameters"]["required"] == ["order_id"]
    assert isinstance(odd.tool_rules[0], InitToolRule)
    conditional = odd.tool_rules[1]
    assert isinstance(conditional, ConditionalToolRule)
    assert conditional.child_output_mapping == {"true": "send_message"}
    assert TerminalToolRule(tool_name="send_message") in odd.tool_rules
    assert odd.llm_config.model == "claude-sonnet-4-5"
    assert odd.timezone == "America/New_York"
    assert len(odd.message_ids) == 1


async def test_organization_scoping(session_factory, org_id) -> None:
    other = ids.new_id(ids.ORGANIZATION)
    async with session_factory() as session, session.begin():
        await ensure_organization(session, other)
    mine = await seed(session_factory, org_id, 2)
    theirs = await seed(session_factory, other, 2)  # same names, other organization
    async with session_factory() as session:
        seen = await load_agents(session, org_id, [*mine.values(), *theirs.values()])
        assert set(seen) == set(mine.values())
        assert await load_agents(session, org_id, theirs.values()) == {}
        by_name = await load_agents_by_name(session, org_id, mine)
        assert {a.id for a in by_name.values()} == set(mine.values())
        assert {a.organization_id for a in await list_agents(session, other)} == {other}
        assert await agent_ids_by_name(session, other, ["agent-00000"]) == {
            "agent-00000": theirs["agent-00000"]
        }
        # Messages are scoped too: org A cannot read org B's system messages.
        their_agents = await load_agents(session, other, theirs.values())
        msgs = await load_in_context_messages(session, org_id, their_agents.values())
        assert all(v == [] for v in msgs.values())


async def test_list_agents_pages(session_factory, org_id) -> None:
    await seed(session_factory, org_id, 5)
    async with session_factory() as session:
        first = await list_agents(session, org_id, limit=2)
        rest = await list_agents(session, org_id, limit=10, offset=2)
    assert len(first) == 2 and len(rest) == 3
    assert {a.name for a in first} & {a.name for a in rest} == set()


async def test_load_agents_query_count_is_constant(engine, session_factory, org_id) -> None:
    counts = []
    for n in (1, 25):
        org = ids.new_id(ids.ORGANIZATION)
        async with session_factory() as session, session.begin():
            await ensure_organization(session, org)
        agent_ids = await seed(session_factory, org, n)
        async with session_factory() as session:
            with StatementCounter(engine) as counter:
                agents = await load_agents(session, org, agent_ids.values())
                await load_in_context_messages(session, org, agents.values())
        counts.append(counter.count)
    assert counts[0] == counts[1] == 6  # load_agents: 5, in-context messages: 1
