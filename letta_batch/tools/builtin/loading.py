"""Bulk reads for the built-in executor: attached tools and (locked) memory blocks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch.db import models as m
from letta_batch.repositories.bulk import dialect_name, in_values
from letta_batch.repositories.rows import tool_from_row
from letta_batch.schemas.tool import Tool
from letta_batch.tools.builtin.memory import AgentMemory, MemoryBlock


async def attached_tools(
    session: AsyncSession, org_id: str, agent_ids: Iterable[str], names: Iterable[str]
) -> dict[tuple[str, str], Tool]:
    """``(agent_id, tool_name) → Tool`` for the named tools attached to the agents (1 query)."""
    agents, wanted = list(set(agent_ids)), list(set(names))
    if not agents or not wanted:
        return {}
    at, t = m.agents_tools, m.tools
    dialect = dialect_name(session)
    rows = await session.execute(
        select(at.c.agent_id, t)
        .join(t, t.c.id == at.c.tool_id)
        .where(
            t.c.organization_id == org_id,
            in_values(at.c.agent_id, agents, dialect),
            in_values(t.c.name, wanted, dialect),
        )
    )
    # Thousands of agents share a handful of tools: one Tool per tool row, not per agent.
    built: dict[str, Tool] = {}
    out: dict[tuple[str, str], Tool] = {}
    for r in rows.mappings():
        tool = built.get(r["id"])
        if tool is None:
            tool = built[r["id"]] = tool_from_row(r)
        out[(r["agent_id"], r["name"])] = tool
    return out


async def load_memories(
    session: AsyncSession, org_id: str, agent_ids: Iterable[str]
) -> tuple[dict[str, AgentMemory], dict[str, MemoryBlock]]:
    """Each agent's blocks (attachment order) in ONE query, locked for update on PostgreSQL.

    A block attached to several agents is a single shared :class:`MemoryBlock`. Rows are
    locked in block-id order, so concurrent executors touching overlapping blocks queue up
    instead of deadlocking (SQLite serialises writers with ``BEGIN IMMEDIATE`` anyway).
    Returns ``(memories by agent id, blocks by id)``; agents without blocks get an empty view.
    """
    agents = list(dict.fromkeys(agent_ids))
    if not agents:
        return {}, {}
    ab, b = m.agents_blocks, m.blocks
    dialect = dialect_name(session)
    stmt = (
        select(
            ab.c.agent_id,
            ab.c.position,
            b.c.id,
            b.c.label,
            b.c.value,
            b.c.limit,
            b.c.read_only,
            b.c.version,
        )
        .join(b, b.c.id == ab.c.block_id)
        .where(b.c.organization_id == org_id, in_values(ab.c.agent_id, agents, dialect))
        .order_by(b.c.id, ab.c.agent_id)
    )
    if dialect == "postgresql":
        stmt = stmt.with_for_update(of=b)
    blocks: dict[str, MemoryBlock] = {}
    attached: dict[str, list[tuple[int, str, MemoryBlock]]] = defaultdict(list)
    for r in (await session.execute(stmt)).mappings():
        block = blocks.get(r["id"])
        if block is None:
            block = MemoryBlock(
                id=r["id"],
                label=r["label"],
                value=r["value"],
                limit=r["limit"],
                read_only=r["read_only"],
                version=r["version"],
            )
            blocks[block.id] = block
        attached[r["agent_id"]].append((r["position"], block.label, block))
    memories = {
        agent_id: AgentMemory([blk for _, _, blk in sorted(attached[agent_id], key=_order)])
        for agent_id in agents
    }
    return memories, blocks


def _order(entry: tuple[int, str, MemoryBlock]) -> tuple[int, str]:
    return entry[0], entry[1]
