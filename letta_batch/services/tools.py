"""Phase ``tools``: built-in tools in bulk, custom tools one activity per call.

Every call is a ``tool_executions`` row created by the decide phase; a row leaves ``pending``
exactly once (conditional update), so a retried chunk or activity never applies an effect or
writes a result twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from letta_batch.contracts import (
    CustomToolCallInput,
    CustomToolCallOutput,
    CustomToolCallRef,
    CustomToolPage,
    CustomToolPageInput,
    LLMBatchRef,
    RecordToolFailureInput,
    RunToolsOutput,
    Shard,
)
from letta_batch.crashpoints import checkpoint
from letta_batch.db.models_agents import AgentRow, AgentToolRow, ToolRow
from letta_batch.db.models_batch import LLMBatchItemRow, ToolExecutionRow
from letta_batch.repositories.rows import tool_from_row
from letta_batch.schemas import ToolExecutionPolicy, ToolType
from letta_batch.schemas.enums import BUILTIN_TOOL_TYPES
from letta_batch.services.runtime import NonRetryable, ServiceContext
from letta_batch.services.shards import chunk_size, items_of
from letta_batch.tools.builtin.executor import BuiltinCall, execute_builtin_calls
from letta_batch.tools.results import ToolResult
from letta_batch.tools.sandbox import run_custom_tool as run_in_sandbox
from letta_batch.tools.validation import validate_tool_args

#: Built-in calls executed per transaction. One chunk holds a 10,000-agent step: the
#: executor's statements are per call set, so fewer chunks mean fewer statements; larger
#: steps take a round per chunk and the memory of one chunk.
BUILTIN_CHUNK = 10_000
_BUILTIN_TYPES = [t.value for t in BUILTIN_TOOL_TYPES]


def idempotency_key(batch_item_id: str, tool_call_id: str) -> str:
    """What a tool sees as ``LETTA_TOOL_IDEMPOTENCY_KEY``: stable across retries."""
    return f"{batch_item_id}:{tool_call_id}"


def _pending_in_batch(llm_batch_id: str, shard: Shard | None = None) -> Any:
    return (
        select(ToolExecutionRow, ToolRow.tool_type, AgentRow.timezone, LLMBatchItemRow.step)
        .join(LLMBatchItemRow, LLMBatchItemRow.id == ToolExecutionRow.batch_item_id)
        .join(AgentRow, AgentRow.id == ToolExecutionRow.agent_id)
        .join(AgentToolRow, AgentToolRow.agent_id == ToolExecutionRow.agent_id)
        .join(
            ToolRow,
            (ToolRow.id == AgentToolRow.tool_id) & (ToolRow.name == ToolExecutionRow.tool_name),
        )
        .where(
            LLMBatchItemRow.llm_batch_id == llm_batch_id,
            items_of(shard or Shard()),
            ToolExecutionRow.status == "pending",
        )
    )


async def run_builtin_tools(ctx: ServiceContext, ref: LLMBatchRef) -> RunToolsOutput:
    out = RunToolsOutput()
    size = chunk_size(BUILTIN_CHUNK, ref.shard)
    while True:
        async with ctx.session_factory.begin() as session:
            rows = (
                await session.execute(
                    _pending_in_batch(ref.llm_batch_id, ref.shard)
                    .where(ToolRow.tool_type.in_(_BUILTIN_TYPES))
                    .order_by(ToolExecutionRow.id)
                    .limit(size + 1)  # one more tells whether another round is needed
                )
            ).all()
            if not rows:
                return out
            more = len(rows) > size
            rows = rows[:size]
            calls = [
                BuiltinCall(
                    item_id=e.batch_item_id,
                    call_id=e.tool_call_id,
                    agent_id=e.agent_id,
                    tool_name=e.tool_name,
                    args=e.args or {},
                    agent_timezone=tz,
                    step=step,
                )
                for e, _type, tz, step in rows
            ]
            results = await execute_builtin_calls(session, ref.organization_id, calls)
        await checkpoint("tools.after_chunk")
        out.executed += len(calls)
        out.skipped += len(results.replayed)
        for result in results.results.values():
            if result.status == "success":
                out.succeeded += 1
            else:
                out.failed += 1
        if not more:
            return out


async def list_custom_tool_calls(ctx: ServiceContext, arg: CustomToolPageInput) -> CustomToolPage:
    async with ctx.session_factory() as session:
        stmt = _pending_in_batch(arg.llm_batch_id).where(ToolRow.tool_type.not_in(_BUILTIN_TYPES))
        if arg.after_id:
            stmt = stmt.where(ToolExecutionRow.id > arg.after_id)
        rows = (
            await session.execute(
                stmt.add_columns(ToolRow.execution).order_by(ToolExecutionRow.id).limit(arg.limit)
            )
        ).all()
    calls = []
    for e, _type, _tz, _step, execution in rows:
        policy = ToolExecutionPolicy.model_validate(execution or {})
        calls.append(
            CustomToolCallRef(
                execution_id=e.id,
                tool_name=e.tool_name,
                timeout_seconds=policy.timeout_seconds,
                max_attempts=policy.max_attempts,
                initial_interval_seconds=policy.initial_interval_seconds,
                backoff_coefficient=policy.backoff_coefficient,
                maximum_interval_seconds=policy.maximum_interval_seconds,
            )
        )
    next_after = calls[-1].execution_id if len(calls) == arg.limit else None
    return CustomToolPage(calls=calls, next_after_id=next_after)


async def run_custom_tool(ctx: ServiceContext, arg: CustomToolCallInput) -> CustomToolCallOutput:
    async with ctx.session_factory.begin() as session:
        execution = await session.scalar(
            select(ToolExecutionRow).where(
                ToolExecutionRow.id == arg.execution_id,
                ToolExecutionRow.organization_id == arg.organization_id,
            )
        )
        if execution is None:
            raise NonRetryable(f"execution_id: no tool execution {arg.execution_id!r}")
        if execution.status != "pending":
            return CustomToolCallOutput(execution_id=execution.id, status=_public(execution.status))
        tool_row = (
            (
                await session.execute(
                    select(*ToolRow.__table__.c)
                    .join(AgentToolRow, AgentToolRow.tool_id == ToolRow.id)
                    .where(
                        AgentToolRow.agent_id == execution.agent_id,
                        ToolRow.name == execution.tool_name,
                    )
                )
            )
            .mappings()
            .first()
        )
        execution.attempts = (execution.attempts or 0) + 1
        key = idempotency_key(execution.batch_item_id, execution.tool_call_id)
        args = dict(execution.args or {})
    if tool_row is None:
        result = ToolResult.error(f"Tool not found: {execution.tool_name}")
    else:
        tool = tool_from_row(tool_row)
        problem = validate_tool_args(tool, args)
        if problem is not None:
            result = ToolResult.error(f"Invalid arguments for {tool.name}: {problem}")
        elif tool.tool_type is not ToolType.custom and not tool.source_code:
            result = ToolResult.error(f"Tool {tool.name} of type {tool.tool_type} cannot run here")
        else:
            # ToolSandboxError (crash, timeout, memory kill) propagates: Temporal retries it
            # under the tool's own policy; the attempt count above is already committed.
            result = await run_in_sandbox(tool, args, idempotency_key=key)
    status = "succeeded" if result.status == "success" else "failed"
    await checkpoint("tools.after_chunk")  # the tool ran; its result is not stored yet
    async with ctx.session_factory.begin() as session:
        await session.execute(
            update(ToolExecutionRow)
            .where(ToolExecutionRow.id == arg.execution_id, ToolExecutionRow.status == "pending")
            .values(
                status=status,
                result=result.model_dump(mode="json"),
                error=result.func_response if status == "failed" else None,
                finished_at=ctx.clock(),
            )
        )
    return CustomToolCallOutput(execution_id=arg.execution_id, status=_public(status))


async def record_tool_failure(
    ctx: ServiceContext, arg: RecordToolFailureInput
) -> CustomToolCallOutput:
    """Retries exhausted: the call fails with the last reason (only if still pending)."""
    async with ctx.session_factory.begin() as session:
        await session.execute(
            update(ToolExecutionRow)
            .where(ToolExecutionRow.id == arg.execution_id, ToolExecutionRow.status == "pending")
            .values(
                status="failed",
                error=f"Tool execution failed: {arg.reason}"[:4000],
                finished_at=ctx.clock(),
            )
        )
    return CustomToolCallOutput(execution_id=arg.execution_id, status="error")


def _public(status: str) -> str:
    return "success" if status == "succeeded" else "error"
