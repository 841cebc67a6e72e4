"""How ``build`` splits a shard's agents into rounds: by agents and by context size.

A round holds its agents' whole in-context histories as models, and their request bodies,
until it is written. Fresh agents have a few messages each, so 10,000 agents are one round;
agents with long histories are not: 10,000 agents with 92 messages each held 5.2 GB in two
worker processes (``bench_job.py --agents 10000 --processes 2 --history 30``). A round
therefore also ends before its agents' messages exceed a budget, so a worker's memory is
bounded by the budget whatever the agents' history lengths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch.db.models_agents import AgentRow
from letta_batch.repositories.bulk import dialect_name, in_values

#: In-context messages one round of ``build`` loads at most (unless a single agent has more:
#: it gets a round of its own). About 0.5 GB of models and rows at 5 KB a message.
BUILD_CONTEXT_MESSAGES = 100_000


async def context_sizes(
    session: AsyncSession, org_id: str, agent_ids: Sequence[str]
) -> dict[str, int]:
    """Length of each agent's ``message_ids`` (its context during a job), in one query."""
    if not agent_ids:
        return {}
    dialect = dialect_name(session)
    length = (
        func.jsonb_array_length(AgentRow.message_ids)
        if dialect == "postgresql"
        else func.json_array_length(AgentRow.message_ids)
    )
    rows = await session.execute(
        select(AgentRow.id, length).where(
            AgentRow.organization_id == org_id,
            in_values(AgentRow.__table__.c.id, agent_ids, dialect),
        )
    )
    return {agent_id: int(n or 0) for agent_id, n in rows.all()}


def plan_rounds(
    agent_ids: Sequence[str],
    sizes: Mapping[str, int],
    *,
    max_agents: int,
    max_messages: int,
) -> list[list[str]]:
    """Consecutive rounds of ``agent_ids`` (order kept, every agent once), each of at most
    ``max_agents`` agents whose contexts sum to at most ``max_messages`` (an agent over the
    budget alone is a round of its own). An agent missing from ``sizes`` counts as 1."""
    if max_agents < 1 or max_messages < 1:
        raise ValueError(
            f"max_agents and max_messages must be >= 1, got {max_agents}, {max_messages}"
        )
    rounds: list[list[str]] = []
    current: list[str] = []
    messages = 0
    for agent_id in agent_ids:
        size = max(1, sizes.get(agent_id, 1))
        if current and (len(current) >= max_agents or messages + size > max_messages):
            rounds.append(current)
            current, messages = [], 0
        current.append(agent_id)
        messages += size
    if current:
        rounds.append(current)
    return rounds
