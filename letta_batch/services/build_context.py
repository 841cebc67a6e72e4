"""The history each agent's request is built from: only what the previous step's converted
turns (``ContextTurns``) do not already cover is read from the database.

A step's new messages are the few its answer left (assistant turn, tool return, heartbeat);
the rest of an agent's context is what its previous request was built from. Reading and
converting only the new ones makes a step's build cost grow with what the step added, not
with the length of the agents' histories (see ``providers/anthropic/context_turns.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch.providers.anthropic.context_turns import ContextTurns
from letta_batch.providers.anthropic.request_builder import history_conversion
from letta_batch.repositories.messages import in_order, load_messages
from letta_batch.schemas import Agent, Message
from letta_batch.services.build_inputs import PreviousItem


@dataclass(frozen=True)
class AgentContext:
    """What one agent's request is built from."""

    messages: list[Message]
    """The system message, then the history messages ``prior`` does not cover (all of them
    without ``prior``)."""
    prior: ContextTurns | None
    """The converted turns of the history's start, kept by the agent's previous request
    (the job's previous step, or an earlier job for a job's first step)."""


async def load_contexts(
    session: AsyncSession,
    org_id: str,
    agents: Iterable[Agent],
    previous: dict[str, PreviousItem],
) -> dict[str, AgentContext]:
    """Each agent's context (all of ``message_ids``: during a job every agent sees the whole
    run), in one query for all agents. Ids that no longer resolve are skipped and logged."""
    wanted: dict[str, list[str]] = {}
    priors: dict[str, ContextTurns] = {}
    for agent in agents:
        ids = list(agent.message_ids)
        item = previous.get(agent.id)
        prior = ContextTurns.from_bytes(item.context) if item is not None else None
        model, inner_thoughts = history_conversion(agent)
        if prior is not None and prior.covers(
            model=model, inner_thoughts=inner_thoughts, message_ids=ids
        ):
            priors[agent.id] = prior
            ids = ids[:1] + ids[1 + prior.count :]
        wanted[agent.id] = ids
    found = await load_messages(session, org_id, (i for ids in wanted.values() for i in ids))
    contexts: dict[str, AgentContext] = {}
    for agent_id, ids in wanted.items():
        contexts[agent_id] = AgentContext(
            messages=in_order(found, agent_id, ids), prior=priors.get(agent_id)
        )
    return contexts
