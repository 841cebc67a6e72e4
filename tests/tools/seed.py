"""Seeding helpers for the tool tests (database fixtures come from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch import ids
from letta_batch.db import models as m
from letta_batch.repositories import ensure_organization, upsert_tools
from letta_batch.repositories.rows import agent_to_row, block_to_row
from letta_batch.schemas import Agent, Block, LLMConfig
from letta_batch.tools import builtin_tools


@dataclass
class AgentSpec:
    """An agent to seed: blocks by label → (value, limit, read_only), tool names attached."""

    name: str
    blocks: dict[str, tuple[str, int, bool]] = field(default_factory=dict)
    shared: Sequence[str] = ()
    """Ids of already-seeded blocks to attach too (shared memory)."""
    tools: Sequence[str] = ("send_message", "core_memory_append")
    timezone: str | None = "UTC"
    id: str = ""


async def seed_agents(
    session: AsyncSession, org_id: str, specs: Sequence[AgentSpec]
) -> dict[str, Agent]:
    """Create the organization, the built-in tools and the agents (bulk inserts)."""
    await ensure_organization(session, org_id)
    await upsert_tools(session, org_id, builtin_tools(org_id))
    tool_ids = {t.name: t.id for t in builtin_tools(org_id)}
    agents, block_rows, links, tool_links = {}, [], [], []
    for spec in specs:
        agent_id = spec.id or ids.new_id(ids.AGENT)
        blocks = [
            Block(id=ids.new_id(ids.BLOCK), label=label, value=v, limit=lim, read_only=ro)
            for label, (v, lim, ro) in spec.blocks.items()
        ]
        agent = Agent(
            id=agent_id,
            organization_id=org_id,
            name=spec.name,
            llm_config=LLMConfig(model="claude-sonnet-4-5"),
            blocks=blocks,
            timezone=spec.timezone,
        )
        agents[spec.name] = agent
        block_rows += [block_to_row(b, org_id) for b in blocks]
        block_ids = [b.id for b in blocks] + list(spec.shared)
        links += [
            {"agent_id": agent_id, "block_id": bid, "position": i}
            for i, bid in enumerate(block_ids)
        ]
        tool_links += [{"agent_id": agent_id, "tool_id": tool_ids[n]} for n in spec.tools]
    if block_rows:
        await session.execute(insert(m.blocks), block_rows)
    await session.execute(insert(m.agents), [agent_to_row(a, org_id) for a in agents.values()])
    if links:
        await session.execute(insert(m.agents_blocks), links)
    if tool_links:
        await session.execute(insert(m.agents_tools), tool_links)
    return agents


async def block_values(session: AsyncSession, block_ids: Sequence[str]) -> dict[str, str]:
    rows = await session.execute(
        select(m.blocks.c.id, m.blocks.c.value).where(m.blocks.c.id.in_(block_ids))
    )
    return dict(rows.all())
