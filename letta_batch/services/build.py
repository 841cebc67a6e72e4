"""Phase ``build``: write every continuing agent's provider request for one step.

A shard's agents (all of them with one shard) are built in one transaction under a derived
``llm_batch_id``: a retried or crash-restarted activity either finds the shard's committed
items and returns their counts, or rebuilds the shard from scratch. Round trips do not grow
with the number of agents.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select, update

from letta_batch import ids
from letta_batch.contracts import BuildRequestsInput, BuildRequestsOutput
from letta_batch.crashpoints import checkpoint
from letta_batch.db.models_batch import (
    BatchJobAgentRow,
    LLMBatchItemRow,
    LLMBatchJobRow,
    LLMBatchPartRow,
    RequestToolSetRow,
)
from letta_batch.repositories.agents import load_agents, set_message_ids
from letta_batch.repositories.bulk import insert_ignore, insert_row_stream
from letta_batch.repositories.messages import (
    insert_new_messages,
    update_system_messages,
)
from letta_batch.schemas import ProviderBatchStatus
from letta_batch.services.build_chunks import BUILD_CONTEXT_MESSAGES, context_sizes, plan_rounds
from letta_batch.services.build_context import AgentContext, load_contexts
from letta_batch.services.build_inputs import (
    earlier_turns,
    existing_counts,
    inputs,
    previous_items,
    recall_counts,
    shard_built,
)
from letta_batch.services.build_item import ITEM_COLUMNS, RoundBuilder
from letta_batch.services.runtime import ServiceContext
from letta_batch.services.shards import agents_of, chunk_size
from letta_batch.stepping.batch_parts import PartPlanner

#: Agents built per round of statements, inside the step's one transaction. Bounds the
#: memory a step needs (a chunk's agents, contexts and request bodies) whatever the number of
#: agents; a 10,000-agent step is one chunk unless its agents' histories exceed
#: ``BUILD_CONTEXT_MESSAGES`` (``build_chunks``).
BUILD_CHUNK = 10_000


def llm_batch_id_for(job_id: str, step: int) -> str:
    return ids.derived_id(ids.LLM_BATCH, job_id, str(step))


async def build_requests(ctx: ServiceContext, arg: BuildRequestsInput) -> BuildRequestsOutput:
    """Build the requests of the shard's agents (all agents with a single shard)."""
    org = arg.organization_id
    llm_batch_id = llm_batch_id_for(arg.job_id, arg.step)
    async with ctx.session_factory() as session:
        if await shard_built(session, llm_batch_id, arg.shard):
            return await existing_counts(session, llm_batch_id, arg.shard)
        agent_ids = list(
            (
                await session.scalars(
                    select(BatchJobAgentRow.agent_id)
                    .where(
                        BatchJobAgentRow.job_id == arg.job_id, BatchJobAgentRow.status == "running"
                    )
                    .order_by(BatchJobAgentRow.position, BatchJobAgentRow.agent_id)
                )
            ).all()
        )
    if not agent_ids:
        return BuildRequestsOutput(llm_batch_id=llm_batch_id, request_count=0)
    llm_provider = "anthropic"
    # The step's row is shared by every shard: it is created in a transaction of its own so
    # that shards building at once do not wait on each other's uncommitted insert of it.
    async with ctx.session_factory.begin() as session:
        await create_step_row(session, org, arg.job_id, arg.step, llm_provider)
    mine = agents_of(arg.shard, agent_ids)
    built = failed = 0
    planner = PartPlanner(
        ctx.batch_limits(llm_provider), first=arg.shard.index, stride=arg.shard.count
    )
    async with ctx.session_factory.begin() as session:
        # One transaction, round by round: memory stays bounded by a round whatever the
        # number of agents and the length of their histories, and a crash anywhere leaves
        # nothing of this shard behind.
        rounds = plan_rounds(
            mine,
            await context_sizes(session, org, mine),
            max_agents=chunk_size(BUILD_CHUNK, arg.shard),
            max_messages=chunk_size(BUILD_CONTEXT_MESSAGES, arg.shard),
        )
        for chunk in rounds:
            chunk_built, chunk_failed = await _build_chunk(
                ctx, session, arg, llm_batch_id, chunk, planner
            )
            built += chunk_built
            failed += chunk_failed
        session.add_all(
            LLMBatchPartRow(
                llm_batch_id=llm_batch_id,
                part=p.part,
                organization_id=org,
                status=ProviderBatchStatus.building.value,
                request_count=p.request_count,
                request_bytes=p.request_bytes,
            )
            for p in planner.parts()
        )
        if built - failed:
            # Last, so the row stays locked only for the moment before this commit.
            await session.execute(
                update(LLMBatchJobRow)
                .where(LLMBatchJobRow.id == llm_batch_id)
                .values(request_count=LLMBatchJobRow.request_count + (built - failed))
            )
    await checkpoint("build.after_commit")
    return BuildRequestsOutput(
        llm_batch_id=llm_batch_id, request_count=built - failed, failed_count=failed
    )


async def create_step_row(
    session: Any, org: str, job_id: str, step: int, llm_provider: str
) -> None:
    """The step's ``llm_batch_jobs`` row, unless a shard (or an earlier attempt) made it.

    Every unique constraint arbitrates, not just the id's: two shards that insert at the
    same moment both pass PostgreSQL's pre-check, and a constraint that is not an arbiter
    (``letta_batch_job_id, step``) then raises for the second instead of skipping it.
    """
    await insert_ignore(
        session,
        LLMBatchJobRow.__table__,
        [
            {
                "id": llm_batch_id_for(job_id, step),
                "organization_id": org,
                "letta_batch_job_id": job_id,
                "step": step,
                "status": ProviderBatchStatus.building.value,
                "llm_provider": llm_provider,
                "request_count": 0,
            }
        ],
    )


async def _build_chunk(
    ctx: ServiceContext,
    session: Any,
    arg: BuildRequestsInput,
    llm_batch_id: str,
    agent_ids: list[str],
    planner: PartPlanner,
) -> tuple[int, int]:
    """Build and write the requests of ``agent_ids``; returns (items written, items failed).

    The item rows are built while they are copied into the database (``insert_row_stream``):
    a round never holds its request bodies all at once, and PostgreSQL writes them on the
    other core while the next agents are built.
    """
    org = arg.organization_id
    agents = await load_agents(session, org, agent_ids)
    if arg.step:
        previous_batch = llm_batch_id_for(arg.job_id, arg.step - 1)
        previous = await previous_items(session, previous_batch, agents)
    else:
        previous = await earlier_turns(session, agents)
    job_inputs = await inputs(session, arg.job_id, agent_ids) if arg.step == 0 else {}
    # During a job every agent sees the whole run (autoclear agents are cut back to their
    # system message when they stop, in persist_step).
    contexts = await load_contexts(session, org, agents.values(), previous)
    totals, archival = await recall_counts(session, org, agent_ids)
    builder = RoundBuilder(
        arg=arg,
        llm_batch_id=llm_batch_id,
        planner=planner,
        clock=ctx.clock,
        now=ctx.clock(),
        job_inputs=job_inputs,
        totals=totals,
        archival=archival,
    )

    def rows() -> Iterator[dict[str, Any]]:
        for agent_id in agent_ids:
            # Popped: an agent's models are dropped as soon as its row is on its way.
            item = previous.pop(agent_id, None)
            yield builder.row(
                agents.pop(agent_id),
                item.state if item is not None else None,
                contexts.pop(agent_id, AgentContext(messages=[], prior=None)),
            )

    await insert_row_stream(session, LLMBatchItemRow.__table__, rows(), ITEM_COLUMNS)
    if builder.tool_sets:
        # Written with the items, in the shard's transaction: the ids are the shard's own.
        await insert_ignore(
            session,
            RequestToolSetRow.__table__,
            [
                {"id": k, "llm_batch_id": llm_batch_id, "tools": v}
                for k, v in sorted(builder.tool_sets.items())
            ],
            conflict_columns=["id"],
        )
    # New: a shard's items and messages commit together, and a committed shard is not built
    # again (``shard_built``).
    await insert_new_messages(session, org, builder.new_messages)
    if builder.message_ids:
        await set_message_ids(session, org, builder.message_ids)
    if builder.system_texts:
        await update_system_messages(session, org, builder.system_texts)
    return builder.items, builder.failed
