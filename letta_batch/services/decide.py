"""Phase ``decide``: apply the pure ``decide()`` to every item's result and record the work.

Each decision is stored on its item and each tool call to run becomes a ``tool_executions`` row
keyed by (item, provider call id), so re-running this phase writes nothing new.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch.contracts import ApplyDecisionsInput, ApplyDecisionsOutput, Shard
from letta_batch.db.models_agents import AgentToolRow, ToolRow
from letta_batch.db.models_batch import LLMBatchItemRow, ToolExecutionRow
from letta_batch.repositories.bulk import dialect_name, in_values, insert_ignore, update_rows
from letta_batch.schemas import AgentStepState, ItemStepStatus
from letta_batch.schemas.enums import BUILTIN_TOOL_TYPES, ToolType
from letta_batch.services.build_item import OFFERED_TOOL_TYPES
from letta_batch.services.item_chunks import for_each_chunk
from letta_batch.services.runtime import ServiceContext
from letta_batch.services.shards import chunk_size, items_of
from letta_batch.stepping.decide import Decision, DecisionAction, decide
from letta_batch.stepping.outcome import StepOutcome, parse_item_result
from letta_batch.tools.builtin import ledger

#: Items decided per transaction. One chunk holds a 10,000-agent step, so its statements do
#: not grow with the number of agents; larger steps take a round per chunk and the memory of
#: one chunk (rows hold only the columns read below, a few KB each).
DECIDE_CHUNK = 10_000
#: The item columns ``decide`` reads (not the large ``request_body``).
_ITEM_COLUMNS = (
    LLMBatchItemRow.id,
    LLMBatchItemRow.organization_id,
    LLMBatchItemRow.agent_id,
    LLMBatchItemRow.llm_config,
    LLMBatchItemRow.step_state,
    LLMBatchItemRow.batch_request_result,
    LLMBatchItemRow.error,
)


async def apply_decisions(ctx: ServiceContext, arg: ApplyDecisionsInput) -> ApplyDecisionsOutput:
    out = ApplyDecisionsOutput()

    async def decide_and_record(session: AsyncSession, items: Sequence[Any]) -> None:
        updates, executions = [], []
        for d in await decide_chunk(session, items, arg.max_steps):
            _count(out, d.decision)
            updates.append(item_update(ctx, d.item, d.decision))
            execution = execution_row(ctx, d.item, d.decision, d.tools)
            if execution is not None:
                executions.append(execution)
        await update_rows(session, LLMBatchItemRow.__table__, updates)
        await insert_ignore(session, ToolExecutionRow.__table__, executions)

    await for_each_chunk(
        ctx,
        pending_items(arg.llm_batch_id, arg.shard, _ITEM_COLUMNS),
        chunk_size(DECIDE_CHUNK, arg.shard),
        decide_and_record,
        after_commit="decide.after_commit",
    )
    # Report every call still to run, not only those decided by this attempt: a retry after a
    # crash finds the items decided but their tools not yet executed.
    out.builtin_calls, out.custom_calls = await pending_calls(
        ctx, arg.organization_id, arg.llm_batch_id, arg.shard
    )
    return out


async def pending_calls(
    ctx: ServiceContext, organization_id: str, llm_batch_id: str, shard: Shard
) -> tuple[int, int]:
    """(built-in, custom) calls of the shard's items still pending.

    Counted per tool name first and classified by a lookup of those few names: joining the
    agents' tool links for every execution made the planner scan (80 s at 10,000 agents).
    """
    async with ctx.session_factory() as session:
        by_name = (
            await session.execute(
                select(ToolExecutionRow.tool_name, func.count())
                .join(LLMBatchItemRow, LLMBatchItemRow.id == ToolExecutionRow.batch_item_id)
                .where(
                    LLMBatchItemRow.llm_batch_id == llm_batch_id,
                    items_of(shard),
                    ToolExecutionRow.status == "pending",
                )
                .group_by(ToolExecutionRow.tool_name)
            )
        ).all()
        if not by_name:
            return 0, 0
        type_rows = (
            await session.execute(
                select(ToolRow.name, ToolRow.tool_type).where(
                    ToolRow.organization_id == organization_id,
                    ToolRow.name.in_([name for name, _ in by_name]),
                )
            )
        ).all()
    types: dict[str, str] = {name: tool_type for name, tool_type in type_rows}
    builtin = sum(
        n for name, n in by_name if name in types and ToolType(types[name]) in BUILTIN_TOOL_TYPES
    )
    return builtin, sum(n for _, n in by_name) - builtin


@dataclass(frozen=True)
class Decided:
    """One item's decision, with what it was made from."""

    item: Any
    outcome: StepOutcome
    """The parsed result (an errored one when the provider returned nothing)."""
    decision: Decision
    tools: dict[str, str]
    """The agent's attached tools, ``{name: tool_type}``."""


def pending_items(llm_batch_id: str, shard: Shard, columns: Sequence[Any]) -> Select[Any]:
    """The shard's items the provider answered (or failed to) and nothing decided yet."""
    return select(*columns).where(
        LLMBatchItemRow.llm_batch_id == llm_batch_id,
        items_of(shard),
        LLMBatchItemRow.step_status == ItemStepStatus.pending.value,
    )


async def decide_chunk(
    session: AsyncSession, items: Sequence[Any], max_steps: int
) -> list[Decided]:
    """Decide a chunk of items (one query for their agents' tools)."""
    tools = await agent_tools(session, [i.agent_id for i in items])
    offered: dict[tuple[tuple[str, str], ...], list[str]] = {}
    decided = []
    for item in items:
        attached = tools.get(item.agent_id, {})
        key = tuple(sorted(attached.items()))
        if key not in offered:  # agents of a fleet share a handful of tool sets
            offered[key] = offered_names(attached)
        outcome, decision = decide_item(item, offered[key], max_steps)
        decided.append(Decided(item, outcome, decision, attached))
    return decided


def offered_names(tools: dict[str, str]) -> list[str]:
    """Names of the attached tools offered to the model, sorted."""
    return sorted(name for name, t in tools.items() if ToolType(t) in OFFERED_TOOL_TYPES)


def decide_item(item: Any, offered: list[str], max_steps: int) -> tuple[StepOutcome, Decision]:
    """The item's parsed result (an errored one when it has none) and its decision."""
    state = AgentStepState.model_validate(item.step_state)
    row = item.batch_request_result
    if row is None:
        # Never answered (the provider refused the batch, or the result was missing).
        row = {
            "custom_id": item.id,
            "result": {
                "type": "errored",
                "error": {
                    "type": "error",
                    "error": {"type": "api_error", "message": item.error or "no result"},
                },
            },
        }
    outcome = parse_item_result(row, item.llm_config)
    return outcome, decide(outcome, state, available_tools=offered, max_steps=max_steps)


def _count(out: ApplyDecisionsOutput, decision: Decision) -> None:
    if decision.action is DecisionAction.fail:
        out.failed += 1
    elif decision.action is DecisionAction.approval:
        out.approvals += 1
    elif decision.continue_stepping:
        out.continuing += 1
    else:
        out.stopping += 1


def item_update(ctx: ServiceContext, item: Any, decision: Decision) -> dict[str, Any]:
    failed = decision.action is DecisionAction.fail
    return {
        "id": item.id,
        "decision": decision.model_dump(mode="json"),
        "step_status": (ItemStepStatus.failed if failed else ItemStepStatus.decided).value,
        "stop_reason": decision.stop_reason.value if decision.stop_reason else None,
        "error": decision.reason if failed else item.error,
        "updated_at": ctx.clock(),
    }


def execution_row(
    ctx: ServiceContext, item: Any, decision: Decision, tools: dict[str, str]
) -> dict[str, Any] | None:
    if (
        decision.action not in (DecisionAction.execute_tool, DecisionAction.refuse_tool)
        or decision.tool_call is None
    ):
        return None
    call = decision.tool_call
    tool_type = tools.get(call.name)
    refused = decision.action is DecisionAction.refuse_tool or tool_type is None
    now = ctx.clock()
    return {
        "id": ledger.execution_id((item.id, call.id)),
        "organization_id": item.organization_id,
        "batch_item_id": item.id,
        "tool_call_id": call.id,
        "agent_id": item.agent_id,
        "tool_name": call.name,
        "status": "failed" if refused else "pending",
        "attempts": 0,
        "args": decision.tool_args,
        "result": None,
        "error": (decision.reason or f"Tool {call.name} is not attached to this agent")
        if refused
        else None,
        "created_at": now,
        "finished_at": now if refused else None,
    }


async def agent_tools(session: Any, agent_ids: list[str]) -> dict[str, dict[str, str]]:
    """``{agent_id: {tool name: tool_type}}`` for the chunk, in one query."""
    wanted = sorted(set(agent_ids))
    rows = (
        await session.execute(
            select(AgentToolRow.agent_id, ToolRow.name, ToolRow.tool_type)
            .join(ToolRow, ToolRow.id == AgentToolRow.tool_id)
            .where(in_values(AgentToolRow.__table__.c.agent_id, wanted, dialect_name(session)))
        )
    ).all()
    tools: dict[str, dict[str, str]] = defaultdict(dict)
    for agent_id, name, tool_type in rows:
        tools[agent_id][name] = tool_type
    return tools
