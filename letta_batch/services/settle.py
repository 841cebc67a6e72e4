"""Phase ``settle``: decide, run built-in tools and persist each item in one pass.

``apply_decisions``, ``run_builtin_tools`` and ``persist_step`` each read and rewrite every
item of the step; persist parsed each result and validated each decision again. Here one
transaction per chunk reads the items once, decides them, runs their built-in tool calls
(``execute_builtin_calls``: looked up, run and recorded in the same transaction) and writes
their messages, ``message_ids`` and statuses. A crash anywhere rolls the chunk back whole;
a retry finds it pending again, or finished.

Items whose call goes to a custom tool are only decided, with a pending ``tool_executions``
row, exactly as ``apply_decisions`` leaves them: the tool fan-out runs them and
``persist_step`` writes them. The output says how many such calls wait; when none does, it
carries the shard's final agent counts and nothing is left for persist.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch.contracts import (
    LLMBatchRef,
    PersistStepInput,
    PersistStepOutput,
    SettleStepInput,
    SettleStepOutput,
)
from letta_batch.crashpoints import checkpoint
from letta_batch.db.models_batch import LLMBatchItemRow, ToolExecutionRow
from letta_batch.repositories.bulk import insert_ignore, update_rows
from letta_batch.schemas import ToolType
from letta_batch.schemas.enums import BUILTIN_TOOL_TYPES
from letta_batch.services import decide, persist, tools
from letta_batch.services.item_chunks import for_each_chunk
from letta_batch.services.persist_items import FinishedItem, load_agent_states, write_finished
from letta_batch.services.runtime import ServiceContext
from letta_batch.services.shards import chunk_size
from letta_batch.stepping.decide import Decision, DecisionAction
from letta_batch.tools.builtin.executor import BuiltinCall, execute_builtin_calls

#: Items settled per transaction: one chunk holds a 10,000-agent step, so statements per
#: step do not grow with the number of agents; larger steps take a round per chunk.
SETTLE_CHUNK = 10_000
#: The item columns settling reads (not the large ``request_body``).
_ITEM_COLUMNS = (
    LLMBatchItemRow.id,
    LLMBatchItemRow.organization_id,
    LLMBatchItemRow.agent_id,
    LLMBatchItemRow.letta_batch_job_id,
    LLMBatchItemRow.step,
    LLMBatchItemRow.llm_config,
    LLMBatchItemRow.step_state,
    LLMBatchItemRow.batch_request_result,
    LLMBatchItemRow.error,
)


async def settle_step(ctx: ServiceContext, arg: SettleStepInput) -> SettleStepOutput:
    """Settle the shard's answered items; see the module docstring."""
    out = SettleStepOutput()

    async def settle_chunk(session: AsyncSession, items: Sequence[Any]) -> None:
        await _settle_chunk(ctx, session, items, arg, out)

    await for_each_chunk(
        ctx,
        decide.pending_items(arg.llm_batch_id, arg.shard, _ITEM_COLUMNS),
        chunk_size(SETTLE_CHUNK, arg.shard),
        settle_chunk,
        after_commit="settle.after_commit",
    )
    builtin, out.custom_calls = await decide.pending_calls(
        ctx, arg.organization_id, arg.llm_batch_id, arg.shard
    )
    if builtin:
        # Defensive: a step settles on one path, so only items decided by ``apply_decisions``
        # (the three-phase path) could wait here with a built-in call not yet run.
        ref = LLMBatchRef(
            llm_batch_id=arg.llm_batch_id, organization_id=arg.organization_id, shard=arg.shard
        )
        await tools.run_builtin_tools(ctx, ref)
    if out.custom_calls:
        return out
    # Whatever is left (items that failed at build, or decided by that path), and the counts
    # of every agent of the shard as stored, so a retry reports the same.
    persisted = await persist.persist_step(
        ctx,
        PersistStepInput(
            llm_batch_id=arg.llm_batch_id,
            organization_id=arg.organization_id,
            max_steps=arg.max_steps,
            shard=arg.shard,
            after_settle=True,
        ),
    )
    return out.model_copy(
        update={
            **persisted.model_dump(),
            "messages_written": out.messages_written + persisted.messages_written,
        }
    )


async def _settle_chunk(
    ctx: ServiceContext,
    session: Any,
    items: Sequence[Any],
    arg: SettleStepInput,
    out: SettleStepOutput,
) -> None:
    org = arg.organization_id
    agents = await load_agent_states(session, org, [i.agent_id for i in items])
    decided: list[tuple[decide.Decided, dict[str, Any] | None]] = []
    calls: list[BuiltinCall] = []
    waiting: list[dict[str, Any]] = []  # item updates of those left for the fan-out
    rows: list[dict[str, Any]] = []  # executions written here: refused and custom calls
    for d in await decide.decide_chunk(session, items, arg.max_steps):
        execution = decide.execution_row(ctx, d.item, d.decision, d.tools)
        if execution is not None and execution["status"] == "pending":
            if ToolType(d.tools[execution["tool_name"]]) not in BUILTIN_TOOL_TYPES:
                rows.append(execution)
                waiting.append(decide.item_update(ctx, d.item, d.decision))
                continue
            # The executor claims built-in calls (inserts their rows) itself.
            calls.append(_builtin_call(d.item, d.decision, agents[d.item.agent_id].timezone))
            execution = None
        elif execution is not None:
            rows.append(execution)
        decided.append((d, execution))
    await insert_ignore(session, ToolExecutionRow.__table__, rows)
    # No claim first: a concurrent attempt at this chunk fails on its messages anyway
    # (inserted as new below), so a call's row is written once, when it has run.
    results = (
        (await execute_builtin_calls(session, org, calls, claim_first=False)).results
        if calls
        else {}
    )
    out.builtin_executed += len(calls)
    finished = []
    for d, refused in decided:
        item, decision = d.item, d.decision
        status = text = None
        if refused is not None:
            status, text = refused["status"], refused["error"]
        elif decision.tool_call is not None and decision.action is DecisionAction.execute_tool:
            result = results[(item.id, decision.tool_call.id)]
            status = "succeeded" if result.success_flag else "failed"
            text = result.func_response
        finished.append(
            FinishedItem(
                item=item,
                decision=decision,
                outcome=d.outcome if item.batch_request_result else None,
                execution_status=status,
                execution_text=text,
            )
        )
    persisted = PersistStepOutput()
    # The chunk's items were pending: nothing has written their messages (its status
    # changes in this transaction), so they go in as new ones.
    await write_finished(
        ctx, session, org, finished, agents, persisted, with_reason=True, messages_are_new=True
    )
    out.settled += len(finished)
    out.messages_written += persisted.messages_written
    await update_rows(session, LLMBatchItemRow.__table__, waiting)
    # Memory edits, messages and statuses are written but not committed: a crash here
    # rolls them all back, and the retry runs the built-in calls again from scratch.
    await checkpoint("settle.before_commit")


def _builtin_call(item: Any, decision: Decision, timezone: str | None) -> BuiltinCall:
    assert decision.tool_call is not None
    return BuiltinCall(
        item_id=item.id,
        call_id=decision.tool_call.id,
        agent_id=item.agent_id,
        tool_name=decision.tool_call.name,
        args=decision.tool_args,
        agent_timezone=timezone,
        step=item.step,
    )
