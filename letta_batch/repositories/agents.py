"""Agents: bulk loading with tools, rules and blocks; bulk ``message_ids`` updates.

Loading N agents costs five queries whatever N is: agents, the agent→block links, the
distinct blocks, the agent→tool links, and the distinct tools.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch.db import models as m
from letta_batch.db.types import utcnow
from letta_batch.repositories.bulk import dialect_name, in_values, update_rows
from letta_batch.repositories.rows import RowLike, agent_from_row, block_from_row
from letta_batch.repositories.tools import load_tools
from letta_batch.schemas import Agent, Block, Tool


async def _assemble(
    session: AsyncSession, org_id: str, agent_rows: Sequence[RowLike]
) -> list[Agent]:
    if not agent_rows:
        return []
    dialect = dialect_name(session)
    ids = [r["id"] for r in agent_rows]
    ab, b, at = m.agents_blocks, m.blocks, m.agents_tools

    # The links first, then the blocks by id (as for tools), put in position order here:
    # joining made PostgreSQL hash every block of the organization, values included, for
    # each chunk of agents, and ordering by the query sorted them; both spilled to disk
    # (2.2 GB of temporary files for a 100,000-agent job, quadratic in the fleet's size).
    block_links = (
        await session.execute(
            select(ab.c.agent_id, ab.c.block_id, ab.c.position).where(
                in_values(ab.c.agent_id, ids, dialect)
            )
        )
    ).all()
    block_rows: dict[str, RowLike] = {}
    if block_links:
        found = await session.execute(
            select(b).where(
                b.c.organization_id == org_id,
                in_values(b.c.id, list({link.block_id for link in block_links}), dialect),
            )
        )
        block_rows = {row["id"]: row for row in found.mappings()}
    placed = sorted(
        (link.agent_id, link.position, block_rows[link.block_id]["label"], link.block_id)
        for link in block_links
        if link.block_id in block_rows
    )
    blocks: dict[str, list[Block]] = defaultdict(list)
    for agent_id, _, _, block_id in placed:  # one Block per agent, as each agent edits its own
        blocks[agent_id].append(block_from_row(block_rows[block_id]))

    links = (
        await session.execute(
            select(at.c.agent_id, at.c.tool_id).where(in_values(at.c.agent_id, ids, dialect))
        )
    ).all()
    by_id = await load_tools(session, org_id, (tool_id for _, tool_id in links))
    tools: dict[str, list[Tool]] = defaultdict(list)
    for agent_id, tool_id in links:
        if tool_id in by_id:
            tools[agent_id].append(by_id[tool_id])
    for agent_tools in tools.values():
        agent_tools.sort(key=lambda tool: tool.name)

    return [agent_from_row(r, tools[r["id"]], blocks[r["id"]]) for r in agent_rows]


async def load_agents(
    session: AsyncSession, org_id: str, agent_ids: Iterable[str]
) -> dict[str, Agent]:
    """Agents by id with tools (by name), tool rules and blocks (by position): 5 queries.

    Ids that do not exist or belong to another organization are absent from the result.
    """
    ids = list(dict.fromkeys(agent_ids))
    if not ids:
        return {}
    a = m.agents
    rows = (
        (
            await session.execute(
                select(a).where(
                    a.c.organization_id == org_id, in_values(a.c.id, ids, dialect_name(session))
                )
            )
        )
        .mappings()
        .all()
    )
    return {agent.id: agent for agent in await _assemble(session, org_id, rows)}


async def load_agents_by_name(
    session: AsyncSession, org_id: str, names: Iterable[str]
) -> dict[str, Agent]:
    """Agents by name (unique per organization), loaded like :func:`load_agents`."""
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return {}
    a = m.agents
    rows = (
        (
            await session.execute(
                select(a).where(
                    a.c.organization_id == org_id,
                    in_values(a.c.name, wanted, dialect_name(session)),
                )
            )
        )
        .mappings()
        .all()
    )
    return {agent.name: agent for agent in await _assemble(session, org_id, rows)}


async def list_agents(
    session: AsyncSession, org_id: str, limit: int = 100, offset: int = 0
) -> list[Agent]:
    """A page of the organization's agents, oldest first (ties by name)."""
    a = m.agents
    rows = (
        (
            await session.execute(
                select(a)
                .where(a.c.organization_id == org_id)
                .order_by(a.c.created_at, a.c.name)
                .limit(limit)
                .offset(offset)
            )
        )
        .mappings()
        .all()
    )
    return await _assemble(session, org_id, rows)


async def agent_ids_by_name(
    session: AsyncSession, org_id: str, names: Iterable[str]
) -> dict[str, str]:
    """Name → id for existing agents (one light query, no relations)."""
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return {}
    a = m.agents
    rows = await session.execute(
        select(a.c.name, a.c.id).where(
            a.c.organization_id == org_id, in_values(a.c.name, wanted, dialect_name(session))
        )
    )
    return {name: agent_id for name, agent_id in rows.all()}


async def set_message_ids(
    session: AsyncSession, org_id: str, message_ids: Mapping[str, Sequence[str]]
) -> None:
    """Replace ``message_ids`` of many agents in one UPDATE statement.

    Agents of other organizations are not touched (the organization is part of the WHERE).
    """
    if not message_ids:
        return
    now = utcnow()
    await update_rows(
        session,
        m.agents,
        [
            {"id": agent_id, "message_ids": list(ids), "updated_at": now}
            for agent_id, ids in message_ids.items()
        ],
        organization_id=org_id,
    )
