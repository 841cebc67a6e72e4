"""What building a chunk of requests reads besides the agents: what each agent's previous
item decided and the history it converted, the job's input messages (step 0) and the
recall/archival counts for the system prompt's metadata, each one statement for the whole
chunk; and what an earlier attempt of the same shard already built."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, true

from letta_batch.contracts import BuildRequestsOutput, Shard
from letta_batch.db.models_agents import AgentRow, MessageRow, PassageRow
from letta_batch.db.models_batch import BatchJobInputRow, LLMBatchItemRow
from letta_batch.repositories.bulk import dialect_name, in_values
from letta_batch.schemas import Agent, AgentStepState, MessageCreate
from letta_batch.services.shards import items_of


@dataclass(frozen=True)
class PreviousItem:
    """What an agent's item of the previous step hands to its next request."""

    state: AgentStepState | None
    """The decided next state (carries the tool-call history); None if it has none."""
    context: bytes | None
    """Its request's history as converted turns (``ContextTurns``), None if not kept."""


async def previous_items(
    session: Any, previous_llm_batch_id: str, agents: dict[str, Agent]
) -> dict[str, PreviousItem]:
    """Each agent's item in the previous step's batch.

    Looked up through the ``(llm_batch_id, agent_id)`` key: by job and step, PostgreSQL
    combined the job's index (every item of every step) with the agents', a scan of the
    whole job per build chunk (72 µs per item at 100,000 agents, 12 at 10,000)."""
    rows = (
        await session.execute(
            select(
                LLMBatchItemRow.agent_id, LLMBatchItemRow.decision, LLMBatchItemRow.context_turns
            ).where(
                LLMBatchItemRow.llm_batch_id == previous_llm_batch_id,
                in_values(
                    LLMBatchItemRow.__table__.c.agent_id, list(agents), dialect_name(session)
                ),
            )
        )
    ).all()
    found: dict[str, PreviousItem] = {}
    for agent_id, decision, context in rows:
        if agent_id in agents:
            state = None
            if decision and decision.get("next_state"):
                state = AgentStepState.model_validate(decision["next_state"])
            found[agent_id] = PreviousItem(state=state, context=context)
    return found


async def earlier_turns(session: Any, agents: dict[str, Agent]) -> dict[str, PreviousItem]:
    """For a job's first step: each agent's latest kept turns, from any earlier item (an
    earlier job's; the job's own items come later). Nothing else carries over: the job
    starts from a fresh state. One probe of a partial index per agent (migration 0009)."""
    items = LLMBatchItemRow.__table__
    latest = (
        select(items.c.context_turns)
        .where(items.c.agent_id == AgentRow.id, items.c.context_turns.is_not(None))
        .order_by(items.c.created_at.desc())
        .limit(1)
        .correlate(AgentRow)
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            select(AgentRow.id, latest).where(
                in_values(AgentRow.__table__.c.id, list(agents), dialect_name(session))
            )
        )
    ).all()
    return {
        agent_id: PreviousItem(state=None, context=turns)
        for agent_id, turns in rows
        if turns is not None
    }


async def inputs(
    session: Any, job_id: str, agent_ids: Sequence[str]
) -> dict[str, list[MessageCreate]]:
    rows = (
        await session.execute(
            select(BatchJobInputRow.agent_id, BatchJobInputRow.messages).where(
                BatchJobInputRow.job_id == job_id,
                in_values(BatchJobInputRow.__table__.c.agent_id, agent_ids, dialect_name(session)),
            )
        )
    ).all()
    return {a: [MessageCreate.model_validate(m) for m in msgs] for a, msgs in rows}


async def recall_counts(
    session: Any, org: str, agent_ids: Sequence[str]
) -> tuple[dict[str, int], dict[str, tuple[list[str], int]]]:
    """Per agent: stored message count, archival passage count and tags (for the metadata)."""
    dialect = dialect_name(session)
    totals = dict(
        (
            await session.execute(
                select(MessageRow.agent_id, func.count())
                .where(
                    MessageRow.organization_id == org,
                    in_values(MessageRow.__table__.c.agent_id, agent_ids, dialect),
                )
                .group_by(MessageRow.agent_id)
            )
        ).all()
    )
    return totals, await _archival_summaries(session, org, agent_ids, dialect)


async def _archival_summaries(
    session: Any, org: str, agent_ids: Sequence[str], dialect: str
) -> dict[str, tuple[list[str], int]]:
    """Per agent with passages: (its distinct tags sorted, its passage count).

    Counted and de-duplicated in SQL: an archival memory of thousands of passages per agent
    would otherwise cross the wire, every step, for two numbers and a few tags.
    """
    mine = (
        PassageRow.organization_id == org,
        in_values(PassageRow.__table__.c.agent_id, agent_ids, dialect),
    )
    counts = (
        await session.execute(
            select(PassageRow.agent_id, func.count()).where(*mine).group_by(PassageRow.agent_id)
        )
    ).all()
    elements = func.jsonb_array_elements_text if dialect == "postgresql" else func.json_each
    tag = elements(PassageRow.tags).table_valued("value")
    tags = (
        await session.execute(
            select(PassageRow.agent_id, tag.c.value)
            .select_from(PassageRow.__table__)
            .join(tag, true())
            .where(*mine)
            .distinct()
        )
    ).all()
    by_agent: dict[str, list[str]] = defaultdict(list)
    for agent_id, value in tags:
        by_agent[agent_id].append(str(value))
    return {agent_id: (sorted(by_agent[agent_id]), int(n)) for agent_id, n in counts}


async def shard_built(session: Any, llm_batch_id: str, shard: Shard) -> bool:
    """True once the shard's transaction has committed (it writes its items atomically)."""
    found = await session.scalar(
        select(LLMBatchItemRow.id)
        .where(LLMBatchItemRow.llm_batch_id == llm_batch_id, items_of(shard))
        .limit(1)
    )
    return found is not None


async def existing_counts(session: Any, llm_batch_id: str, shard: Shard) -> BuildRequestsOutput:
    """What the shard's earlier, committed attempt built: agents with a request, and agents
    that failed at build (they have none)."""
    rows = (
        await session.execute(
            select(LLMBatchItemRow.request_body.is_(None), func.count())
            .where(LLMBatchItemRow.llm_batch_id == llm_batch_id, items_of(shard))
            .group_by(LLMBatchItemRow.request_body.is_(None))
        )
    ).all()
    counts = {bool(no_request): n for no_request, n in rows}
    return BuildRequestsOutput(
        llm_batch_id=llm_batch_id,
        request_count=counts.get(False, 0),
        failed_count=counts.get(True, 0),
    )
