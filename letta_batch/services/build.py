"""Phase ``build``: write every continuing agent's provider request for one step.

A shard's agents (all of them with one shard) are built in one transaction under a derived
``llm_batch_id``: a retried or crash-restarted activity either finds the shard's committed
items and returns their counts, or rebuilds the shard from scratch. Round trips do not grow
with the number of agents.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from letta_batch import ids
from letta_batch.context import (
    compile_memory,
    compile_system_message,
    memory_metadata,
    needs_rebuild,
)
from letta_batch.contracts import BuildRequestsInput, BuildRequestsOutput
from letta_batch.crashpoints import checkpoint
from letta_batch.db.models_batch import (
    BatchJobAgentRow,
    LLMBatchItemRow,
    LLMBatchJobRow,
    LLMBatchPartRow,
)
from letta_batch.providers.anthropic.request_builder import build_request_body
from letta_batch.repositories.agents import load_agents, set_message_ids
from letta_batch.repositories.bulk import insert_ignore, insert_rows
from letta_batch.repositories.messages import (
    insert_messages,
    load_in_context_messages,
    update_system_messages,
)
from letta_batch.schemas import (
    Agent,
    AgentStepState,
    ItemRequestStatus,
    ItemStepStatus,
    Message,
    ProviderBatchStatus,
    StopReason,
    TextContent,
    ToolType,
)
from letta_batch.services.build_chunks import BUILD_CONTEXT_MESSAGES, context_sizes, plan_rounds
from letta_batch.services.build_inputs import (
    existing_counts,
    inputs,
    previous_states,
    recall_counts,
    shard_built,
)
from letta_batch.services.runtime import ServiceContext
from letta_batch.services.shards import agents_of, chunk_size
from letta_batch.stepping.batch_parts import PartPlanner
from letta_batch.stepping.messages import input_messages
from letta_batch.tool_rules import ToolRulesSolver

#: Tool types offered to the model. Letta's batch path drops the sleeptime memory tools
#: memgpt_v2 agents rely on (§8.10); we offer them.
OFFERED_TOOL_TYPES = frozenset(
    {
        ToolType.custom,
        ToolType.letta_core,
        ToolType.letta_memory_core,
        ToolType.letta_sleeptime_core,
    }
)


#: Agents built per round of statements, inside the step's one transaction. Bounds the
#: memory a step needs (a chunk's agents, contexts and request bodies) whatever the number of
#: agents; a 10,000-agent step is one chunk unless its agents' histories exceed
#: ``BUILD_CONTEXT_MESSAGES`` (``build_chunks``).
BUILD_CHUNK = 10_000


def llm_batch_id_for(job_id: str, step: int) -> str:
    return ids.derived_id(ids.LLM_BATCH, job_id, str(step))


def batch_item_id_for(llm_batch_id: str, agent_id: str) -> str:
    return ids.derived_id(ids.BATCH_ITEM, llm_batch_id, agent_id)


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
        await insert_ignore(
            session,
            LLMBatchJobRow.__table__,
            [
                {
                    "id": llm_batch_id,
                    "organization_id": org,
                    "letta_batch_job_id": arg.job_id,
                    "step": arg.step,
                    "status": ProviderBatchStatus.building.value,
                    "llm_provider": llm_provider,
                    "request_count": 0,
                }
            ],
            conflict_columns=["id"],
        )
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


async def _build_chunk(
    ctx: ServiceContext,
    session: Any,
    arg: BuildRequestsInput,
    llm_batch_id: str,
    agent_ids: list[str],
    planner: PartPlanner,
) -> tuple[int, int]:
    """Build and write the requests of ``agent_ids``; returns (items written, items failed)."""
    org = arg.organization_id
    agents = await load_agents(session, org, agent_ids)
    states = await previous_states(session, arg.job_id, arg.step, agents)
    job_inputs = await inputs(session, arg.job_id, agent_ids) if arg.step == 0 else {}
    # During a job every agent sees the whole run (autoclear agents are cut back to their
    # system message when they stop, in persist_step).
    in_context = await load_in_context_messages(session, org, agents.values(), autoclear=False)
    totals, archival = await recall_counts(session, org, agent_ids)
    now = ctx.clock()

    new_messages: list[Message] = []
    message_ids: dict[str, list[str]] = {}
    system_texts: dict[str, str] = {}
    items: list[dict[str, Any]] = []
    failed = 0
    for agent_id in agent_ids:
        agent = agents[agent_id]
        item_id = batch_item_id_for(llm_batch_id, agent_id)
        state = states.get(agent_id) or AgentStepState(
            tool_rules_solver=ToolRulesSolver(tool_rules=agent.tool_rules)
        )
        context = list(in_context.get(agent_id, []))
        if arg.step == 0:
            created = input_messages(agent_id, item_id, arg.step, job_inputs.get(agent_id, []))
            new_messages.extend(created)
            context.extend(created)
            message_ids[agent_id] = [*agent.message_ids, *(m.id for m in created)]
        solver = state.tool_rules_solver
        memory = compile_memory(agent, tool_rules_solver=solver)
        system = context[0]
        if needs_rebuild(agent, system.text(), memory):
            tags, n_archival = archival.get(agent_id, ([], 0))
            text = compile_system_message(
                agent,
                memory,
                memory_metadata(
                    agent.id,
                    now,
                    agent.timezone,
                    previous_message_count=max(0, totals.get(agent_id, 0) - len(agent.message_ids)),
                    archival_count=n_archival,
                    archival_tags=tags,
                ),
            )
            system_texts[system.id] = text
            context[0] = system.model_copy(update={"content": [TextContent(text=text)]})
        row = _item_row(ctx, arg, llm_batch_id, item_id, agent, state)
        offered = sorted(t.name for t in agent.tools if t.tool_type in OFFERED_TOOL_TYPES)
        try:
            allowed = solver.get_allowed_tool_names(
                offered,
                error_on_empty=True,
                last_function_response=state.last_function_response,
            )
        except ValueError as exc:
            row.update(
                step_status=ItemStepStatus.failed.value,
                stop_reason=StopReason.tool_rule_error.value,
                error=str(exc),
            )
            failed += 1
            items.append(row)
            continue
        tools = [t for t in agent.tools if t.name in set(allowed)]
        body = build_request_body(
            agent,
            context,
            tools,
            # One pass over the rules, not one per offered tool (is_terminal_tool).
            terminal_tool_names={r.tool_name for r in solver.terminal_tool_rules}
            & {t.name for t in tools},
            step=arg.step,
        )
        part = planner.place(item_id, len(body))
        if part is None:
            row.update(
                step_status=ItemStepStatus.failed.value,
                stop_reason=StopReason.error.value,
                error=planner.oversize_reason(len(body)),
            )
            failed += 1
        else:
            row.update(request_body=body, part=part)
        items.append(row)

    await insert_messages(session, org, new_messages)
    if message_ids:
        await set_message_ids(session, org, message_ids)
    if system_texts:
        await update_system_messages(session, org, system_texts)
    await insert_rows(session, LLMBatchItemRow.__table__, items)
    return len(items), failed


def _item_row(
    ctx: ServiceContext,
    arg: BuildRequestsInput,
    llm_batch_id: str,
    item_id: str,
    agent: Agent,
    state: AgentStepState,
) -> dict[str, Any]:
    now = ctx.clock()
    return {
        "id": item_id,
        "organization_id": arg.organization_id,
        "llm_batch_id": llm_batch_id,
        "letta_batch_job_id": arg.job_id,
        "agent_id": agent.id,
        "step": arg.step,
        "llm_config": agent.llm_config.model_dump(mode="json"),
        "request_status": ItemRequestStatus.pending.value,
        "step_status": ItemStepStatus.pending.value,
        "step_state": state.model_dump(mode="json"),
        # The shard's first part; placed requests move to theirs, agents that fail here stay.
        "part": arg.shard.index,
        "request_body": None,
        "batch_request_result": None,
        "decision": None,
        "stop_reason": None,
        "error": None,
        "created_at": now,
        "updated_at": now,
    }
