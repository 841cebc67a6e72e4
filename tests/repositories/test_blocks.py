"""Optimistic bulk block updates."""

from __future__ import annotations

from letta_batch.repositories import load_agents, load_blocks, update_block_values
from tests.repositories.helpers import seed


async def test_update_block_values_checks_versions(session_factory, org_id) -> None:
    agent_ids = await seed(session_factory, org_id, 3)
    async with session_factory() as session:
        agents = await load_agents(session, org_id, agent_ids.values())
    persona = {a.name: a.block("persona") for a in agents.values()}
    a0, a1, a2 = (persona[f"agent-0000{i}"] for i in range(3))

    async with session_factory() as session, session.begin():
        result = await update_block_values(
            session,
            org_id,
            {
                a0.id: ("new 0", a0.version),
                a1.id: ("new 1", a1.version + 5),  # stale expectation -> conflict
                a2.id: ("new 2", None),  # unconditional
                "block-missing": ("x", 1),
            },
        )
    assert result.versions == {a0.id: 2, a2.id: 2}
    assert result.conflicts == {a1.id, "block-missing"}
    assert not result.ok

    async with session_factory() as session:
        blocks = await load_blocks(session, org_id, [a0.id, a1.id, a2.id])
    assert (blocks[a0.id].value, blocks[a0.id].version) == ("new 0", 2)
    assert (blocks[a1.id].value, blocks[a1.id].version) == (a1.value, 1)
    assert blocks[a2.id].value == "new 2"

    # A second writer holding the old version loses.
    async with session_factory() as session, session.begin():
        again = await update_block_values(session, org_id, {a0.id: ("late", 1)})
    assert again.conflicts == {a0.id}


async def test_other_organization_cannot_update(session_factory, org_id) -> None:
    agent_ids = await seed(session_factory, org_id, 1)
    async with session_factory() as session:
        agent = next(iter((await load_agents(session, org_id, agent_ids.values())).values()))
    block = agent.block("persona")
    async with session_factory() as session, session.begin():
        result = await update_block_values(session, "org-other", {block.id: ("hacked", None)})
        assert await load_blocks(session, "org-other", [block.id]) == {}
    assert result.conflicts == {block.id}
