"""Phase ``build``: write every continuing agent's provider request for one step.

All of it happens in one transaction keyed by a derived ``llm_batch_id``: a retried or
crash-restarted activity either finds the committed step and returns its counts, or rebuilds
it from scratch. Round trips do not grow with the number of agents.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from letta_batch import ids
from letta_batch.context import (
    compile_memory,
    compile_system_message,
    memory_metadata,
    needs_rebuild,
)
from letta_batch.contracts import BuildRequestsInput, BuildRequestsOutput
from letta_batch.crashpoints import checkpoint
from letta_batch.db.models_agents import MessageRow, PassageRow
from letta_batch.db.models_batch import (
    BatchJobAgentRow,
    BatchJobInputRow,
    LLMBatchItemRow,
    LLMBatchJobRow,
)
from letta_batch.providers.anthropic.request_builder import build_request_params
from letta_batch.repositories.agents import load_agents, set_message_ids
from letta_batch.repositories.bulk import dialect_name, in_values
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
    MessageCreate,
    ProviderBatchStatus,
    StopReason,
    TextContent,
    ToolType,
)
from letta_batch.services.runtime import ServiceContext
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


def llm_batch_id_for(job_id: str, step: int) -> str:
    return ids.derived_id(ids.LLM_BATCH, job_id, str(step))


def batch_item_id_for(llm_batch_id: str, agent_id: str) -> str:
    return ids.derived_id(ids.BATCH_ITEM, llm_batch_id, agent_id)


async def build_requests(ctx: ServiceContext, arg: BuildRequestsInput) -> BuildRequestsOutput:
    org = arg.organization_id
    llm_batch_id = llm_batch_id_for(arg.job_id, arg.step)
    async with ctx.session_factory.begin() as session:
        if await session.get(LLMBatchJobRow, llm_batch_id) is not None:
            return await _existing_counts(session, llm_batch_id)
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
        agents = await load_agents(session, org, agent_ids)
        states = await _previous_states(session, arg.job_id, arg.step, agents)
        inputs = await _inputs(session, arg.job_id) if arg.step == 0 else {}
        # During a job every agent sees the whole run (autoclear agents are cut back to their
        # system message when they stop, in persist_step).
        in_context = await load_in_context_messages(
            session,
            org,
            [a.model_copy(update={"message_buffer_autoclear": False}) for a in agents.values()],
        )
        totals, archival = await _recall_counts(session, org, agent_ids)
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
                created = input_messages(agent_id, item_id, arg.step, inputs.get(agent_id, []))
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
                        previous_message_count=max(
                            0, totals.get(agent_id, 0) - len(agent.message_ids)
                        ),
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
            row["request_params"] = build_request_params(
                agent,
                context,
                tools,
                terminal_tool_names={t.name for t in tools if solver.is_terminal_tool(t.name)},
                step=arg.step,
            )
            items.append(row)

        session.add(
            LLMBatchJobRow(
                id=llm_batch_id,
                organization_id=org,
                letta_batch_job_id=arg.job_id,
                step=arg.step,
                status=ProviderBatchStatus.building.value,
                llm_provider="anthropic",
                request_count=len(items) - failed,
            )
        )
        await session.flush()
        await insert_messages(session, org, new_messages)
        if message_ids:
            await set_message_ids(session, org, message_ids)
        if system_texts:
            await update_system_messages(session, org, system_texts)
        await session.execute(LLMBatchItemRow.__table__.insert(), items)
    await checkpoint("build.after_commit")
    return BuildRequestsOutput(
        llm_batch_id=llm_batch_id, request_count=len(items) - failed, failed_count=failed
    )


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
        "request_params": None,
        "batch_request_result": None,
        "decision": None,
        "stop_reason": None,
        "error": None,
        "created_at": now,
        "updated_at": now,
    }


async def _existing_counts(session: Any, llm_batch_id: str) -> BuildRequestsOutput:
    rows = (
        await session.execute(
            select(LLMBatchItemRow.step_status, func.count())
            .where(LLMBatchItemRow.llm_batch_id == llm_batch_id)
            .group_by(LLMBatchItemRow.step_status)
        )
    ).all()
    counts = {status: n for status, n in rows}
    failed = counts.get(ItemStepStatus.failed.value, 0)
    total = sum(counts.values())
    row = await session.get(LLMBatchJobRow, llm_batch_id)
    return BuildRequestsOutput(
        llm_batch_id=llm_batch_id,
        request_count=row.request_count if row is not None else total - failed,
        failed_count=failed,
    )


async def _previous_states(
    session: Any, job_id: str, step: int, agents: dict[str, Agent]
) -> dict[str, AgentStepState]:
    """The decided next state of each agent's previous item (carries the tool-call history)."""
    if step == 0:
        return {}
    rows = (
        await session.execute(
            select(LLMBatchItemRow.agent_id, LLMBatchItemRow.decision).where(
                LLMBatchItemRow.letta_batch_job_id == job_id, LLMBatchItemRow.step == step - 1
            )
        )
    ).all()
    states: dict[str, AgentStepState] = {}
    for agent_id, decision in rows:
        if agent_id in agents and decision and decision.get("next_state"):
            states[agent_id] = AgentStepState.model_validate(decision["next_state"])
    return states


async def _inputs(session: Any, job_id: str) -> dict[str, list[MessageCreate]]:
    rows = (
        await session.execute(
            select(BatchJobInputRow.agent_id, BatchJobInputRow.messages).where(
                BatchJobInputRow.job_id == job_id
            )
        )
    ).all()
    return {a: [MessageCreate.model_validate(m) for m in msgs] for a, msgs in rows}


async def _recall_counts(
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
    passages = (
        await session.execute(
            select(PassageRow.agent_id, PassageRow.tags).where(
                PassageRow.organization_id == org,
                in_values(PassageRow.__table__.c.agent_id, agent_ids, dialect),
            )
        )
    ).all()
    archival: dict[str, tuple[list[str], int]] = {}
    for agent_id, tags in passages:
        seen, count = archival.get(agent_id, ([], 0))
        archival[agent_id] = (sorted(set(seen) | set(tags or [])), count + 1)
    return totals, archival
