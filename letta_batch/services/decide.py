"""Phase ``decide``: apply the pure ``decide()`` to every item's result and record the work.

Each decision is stored on its item and each tool call to run becomes a ``tool_executions`` row
keyed by (item, provider call id), so re-running this phase writes nothing new.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select, update

from letta_batch import ids
from letta_batch.contracts import ApplyDecisionsInput, ApplyDecisionsOutput
from letta_batch.crashpoints import checkpoint
from letta_batch.db.models_agents import AgentToolRow, ToolRow
from letta_batch.db.models_batch import LLMBatchItemRow, ToolExecutionRow
from letta_batch.repositories.bulk import insert_ignore
from letta_batch.schemas import AgentStepState, ItemStepStatus
from letta_batch.schemas.enums import BUILTIN_TOOL_TYPES, ToolType
from letta_batch.services.build import OFFERED_TOOL_TYPES
from letta_batch.services.runtime import ServiceContext
from letta_batch.stepping.decide import Decision, DecisionAction, decide
from letta_batch.stepping.outcome import parse_result

#: Items decided per transaction.
DECIDE_CHUNK = 2_000


def tool_execution_id(item_id: str, call_id: str) -> str:
    return ids.derived_id(ids.TOOL_EXECUTION, item_id, call_id)


async def apply_decisions(ctx: ServiceContext, arg: ApplyDecisionsInput) -> ApplyDecisionsOutput:
    out = ApplyDecisionsOutput()
    after = ""
    while True:
        async with ctx.session_factory.begin() as session:
            items = (
                await session.scalars(
                    select(LLMBatchItemRow)
                    .where(
                        LLMBatchItemRow.llm_batch_id == arg.llm_batch_id,
                        LLMBatchItemRow.step_status == ItemStepStatus.pending.value,
                        LLMBatchItemRow.id > after,
                    )
                    .order_by(LLMBatchItemRow.id)
                    .limit(DECIDE_CHUNK)
                )
            ).all()
            if not items:
                break
            after = items[-1].id
            tools = await _agent_tools(session, [i.agent_id for i in items])
            updates, executions = [], []
            for item in items:
                decision = _decide_item(item, tools.get(item.agent_id, {}), arg.max_steps)
                _count(out, decision)
                updates.append(_item_update(ctx, item, decision))
                execution = _execution_row(ctx, item, decision, tools.get(item.agent_id, {}))
                if execution is not None:
                    executions.append(execution)
            await session.execute(update(LLMBatchItemRow), updates)
            await insert_ignore(session, ToolExecutionRow.__table__, executions)
        await checkpoint("decide.after_commit")
    # Report every call still to run, not only those decided by this attempt: a retry after a
    # crash finds the items decided but their tools not yet executed.
    out.builtin_calls, out.custom_calls = await _pending_calls(ctx, arg.llm_batch_id)
    return out


async def _pending_calls(ctx: ServiceContext, llm_batch_id: str) -> tuple[int, int]:
    async with ctx.session_factory() as session:
        rows = (
            await session.execute(
                select(ToolRow.tool_type, func.count())
                .select_from(ToolExecutionRow)
                .join(LLMBatchItemRow, LLMBatchItemRow.id == ToolExecutionRow.batch_item_id)
                .join(AgentToolRow, AgentToolRow.agent_id == ToolExecutionRow.agent_id)
                .join(
                    ToolRow,
                    (ToolRow.id == AgentToolRow.tool_id)
                    & (ToolRow.name == ToolExecutionRow.tool_name),
                )
                .where(
                    LLMBatchItemRow.llm_batch_id == llm_batch_id,
                    ToolExecutionRow.status == "pending",
                )
                .group_by(ToolRow.tool_type)
            )
        ).all()
    builtin = sum(n for t, n in rows if ToolType(t) in BUILTIN_TOOL_TYPES)
    return builtin, sum(n for _, n in rows) - builtin


def _decide_item(item: LLMBatchItemRow, tools: dict[str, str], max_steps: int) -> Decision:
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
    outcome = parse_result(
        row,
        inner_thoughts_in_kwargs=bool((item.llm_config or {}).get("put_inner_thoughts_in_kwargs")),
    )
    offered = sorted(name for name, t in tools.items() if ToolType(t) in OFFERED_TOOL_TYPES)
    return decide(outcome, state, available_tools=offered, max_steps=max_steps)


def _count(out: ApplyDecisionsOutput, decision: Decision) -> None:
    if decision.action is DecisionAction.fail:
        out.failed += 1
    elif decision.action is DecisionAction.approval:
        out.approvals += 1
    elif decision.continue_stepping:
        out.continuing += 1
    else:
        out.stopping += 1


def _item_update(ctx: ServiceContext, item: LLMBatchItemRow, decision: Decision) -> dict[str, Any]:
    failed = decision.action is DecisionAction.fail
    return {
        "id": item.id,
        "decision": decision.model_dump(mode="json"),
        "step_status": (ItemStepStatus.failed if failed else ItemStepStatus.decided).value,
        "stop_reason": decision.stop_reason.value if decision.stop_reason else None,
        "error": decision.reason if failed else item.error,
        "updated_at": ctx.clock(),
    }


def _execution_row(
    ctx: ServiceContext, item: LLMBatchItemRow, decision: Decision, tools: dict[str, str]
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
        "id": tool_execution_id(item.id, call.id),
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


async def _agent_tools(session: Any, agent_ids: list[str]) -> dict[str, dict[str, str]]:
    """``{agent_id: {tool name: tool_type}}`` for the chunk, in one query."""
    rows = (
        await session.execute(
            select(AgentToolRow.agent_id, ToolRow.name, ToolRow.tool_type)
            .join(ToolRow, ToolRow.id == AgentToolRow.tool_id)
            .where(AgentToolRow.agent_id.in_(sorted(set(agent_ids))))
        )
    ).all()
    tools: dict[str, dict[str, str]] = defaultdict(dict)
    for agent_id, name, tool_type in rows:
        tools[agent_id][name] = tool_type
    return tools
