"""Phase ``persist``: write the step's messages, extend ``message_ids``, settle agent statuses.

Message ids are derived from the item id, inserts ignore existing ids and ``message_ids`` only
gains ids it lacks, so a re-run after a crash writes nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from letta_batch.contracts import PersistStepInput, PersistStepOutput, Shard
from letta_batch.crashpoints import checkpoint
from letta_batch.db.models_agents import AgentRow
from letta_batch.db.models_batch import BatchJobAgentRow, LLMBatchItemRow, ToolExecutionRow
from letta_batch.repositories.agents import set_message_ids
from letta_batch.repositories.bulk import dialect_name, in_values, update_rows
from letta_batch.repositories.keyset import next_chunk
from letta_batch.repositories.messages import insert_messages
from letta_batch.schemas import AgentRunStatus, ItemStepStatus, Message, StopReason
from letta_batch.services.runtime import ServiceContext
from letta_batch.services.shards import chunk_size, items_of
from letta_batch.stepping.decide import Decision, DecisionAction
from letta_batch.stepping.outcome import parse_result
from letta_batch.stepping.step_messages import step_messages

#: Items persisted per transaction. One chunk holds a 10,000-agent step, so its statements
#: do not grow with the number of agents; larger steps take a round per chunk and the memory
#: of one chunk.
PERSIST_CHUNK = 10_000
#: The item columns ``persist`` reads (not the large ``request_body``).
_ITEM_COLUMNS = (
    LLMBatchItemRow.id,
    LLMBatchItemRow.agent_id,
    LLMBatchItemRow.letta_batch_job_id,
    LLMBatchItemRow.step,
    LLMBatchItemRow.llm_config,
    LLMBatchItemRow.batch_request_result,
    LLMBatchItemRow.decision,
)


async def persist_step(ctx: ServiceContext, arg: PersistStepInput) -> PersistStepOutput:
    out = PersistStepOutput()
    after = ""
    while True:
        async with ctx.session_factory.begin() as session:
            items, more = await next_chunk(
                session,
                select(*_ITEM_COLUMNS).where(
                    LLMBatchItemRow.llm_batch_id == arg.llm_batch_id,
                    items_of(arg.shard),
                    LLMBatchItemRow.step_status.in_(
                        [
                            ItemStepStatus.decided.value,
                            ItemStepStatus.tools_done.value,
                            ItemStepStatus.failed.value,
                        ]
                    ),
                ),
                LLMBatchItemRow.id,
                after,
                chunk_size(PERSIST_CHUNK, arg.shard),
            )
            if not items:
                break
            after = items[-1].id
            await _persist_chunk(ctx, session, items, arg, out)
        await checkpoint("persist.after_commit")
        if not more:
            break
    return await _settled_counts(ctx, arg.llm_batch_id, arg.shard, out)


async def _settled_counts(
    ctx: ServiceContext, llm_batch_id: str, shard: Shard, out: PersistStepOutput
) -> PersistStepOutput:
    """Agent outcomes of this step as stored, so a retry after a crash reports the same."""
    async with ctx.session_factory() as session:
        rows = (
            await session.execute(
                select(BatchJobAgentRow.status, func.count())
                .join(
                    LLMBatchItemRow,
                    (LLMBatchItemRow.letta_batch_job_id == BatchJobAgentRow.job_id)
                    & (LLMBatchItemRow.agent_id == BatchJobAgentRow.agent_id),
                )
                .where(LLMBatchItemRow.llm_batch_id == llm_batch_id, items_of(shard))
                .group_by(BatchJobAgentRow.status)
            )
        ).all()
    counts = {status: n for status, n in rows}
    return out.model_copy(
        update={
            "continuing": counts.get(AgentRunStatus.running.value, 0),
            "completed": counts.get(AgentRunStatus.completed.value, 0),
            "failed": counts.get(AgentRunStatus.failed.value, 0)
            + counts.get(AgentRunStatus.cancelled.value, 0),
            "requires_approval": counts.get(AgentRunStatus.requires_approval.value, 0),
        }
    )


async def _persist_chunk(
    ctx: ServiceContext,
    session: Any,
    items: Sequence[Any],
    arg: PersistStepInput,
    out: PersistStepOutput,
) -> None:
    org = arg.organization_id
    agent_ids = [i.agent_id for i in items]
    dialect = dialect_name(session)
    agents = {
        a.id: a
        for a in (
            await session.execute(
                select(
                    AgentRow.id,
                    AgentRow.message_ids,
                    AgentRow.message_buffer_autoclear,
                    AgentRow.timezone,
                ).where(
                    in_values(AgentRow.__table__.c.id, agent_ids, dialect),
                    AgentRow.organization_id == org,
                )
            )
        ).all()
    }
    executions = {
        e.batch_item_id: e
        for e in (
            await session.execute(
                select(
                    ToolExecutionRow.batch_item_id,
                    ToolExecutionRow.status,
                    ToolExecutionRow.result,
                    ToolExecutionRow.error,
                ).where(
                    in_values(
                        ToolExecutionRow.__table__.c.batch_item_id, [i.id for i in items], dialect
                    )
                )
            )
        ).all()
    }
    now = ctx.clock()
    messages: list[Message] = []
    new_ids: dict[str, list[str]] = {}
    item_updates: list[dict[str, Any]] = []
    agent_updates: list[dict[str, Any]] = []
    for item in items:
        agent = agents[item.agent_id]
        decision = Decision.model_validate(item.decision)
        execution = executions.get(item.id)
        outcome = (
            parse_result(
                item.batch_request_result,
                inner_thoughts_in_kwargs=bool(
                    (item.llm_config or {}).get("put_inner_thoughts_in_kwargs")
                ),
            )
            if item.batch_request_result
            else None
        )
        succeeded = execution is not None and execution.status == "succeeded"
        built = step_messages(
            agent_id=item.agent_id,
            item_id=item.id,
            step=item.step,
            decision=decision,
            outcome=outcome,
            execution_status=execution.status if execution else None,
            execution_result=None
            if execution is None
            else _text(execution.result if succeeded else execution.error),
            now=now,
            timezone=agent.timezone,
            model=(item.llm_config or {}).get("model"),
            organization_id=org,
        )
        decision = built.decision
        messages.extend(built.messages)
        ids_now = list(agent.message_ids)
        known = set(ids_now)
        ids_now += [m.id for m in built.messages if m.id not in known]
        stops = not decision.continue_stepping or decision.action is DecisionAction.fail
        if stops and agent.message_buffer_autoclear and ids_now:
            ids_now = ids_now[:1]  # Letta's autoclear: only the system message stays in context
        if ids_now != list(agent.message_ids):
            new_ids[item.agent_id] = ids_now
        status, stop_reason = _final_status(decision, stops)
        out.messages_written += len(built.messages)
        if status is AgentRunStatus.running:
            out.continuing += 1
        elif status in (AgentRunStatus.failed, AgentRunStatus.cancelled):
            out.failed += 1
        elif status is AgentRunStatus.requires_approval:
            out.requires_approval += 1
        else:
            out.completed += 1
        agent_updates.append(
            {
                "job_id": item.letta_batch_job_id,
                "agent_id": item.agent_id,
                "status": status.value,
                "stop_reason": stop_reason.value if stop_reason else None,
                "reason": decision.reason,
                "steps": item.step + 1,
            }
        )
        item_updates.append(
            {
                "id": item.id,
                "decision": decision.model_dump(mode="json"),
                "step_status": (
                    ItemStepStatus.failed if decision.action == "fail" else ItemStepStatus.completed
                ).value,
                "updated_at": now,
            }
        )
    await insert_messages(session, org, messages)
    if new_ids:
        await set_message_ids(session, org, new_ids)
    await update_rows(session, LLMBatchItemRow.__table__, item_updates)
    await update_rows(
        session, BatchJobAgentRow.__table__, agent_updates, key_columns=("job_id", "agent_id")
    )


def _final_status(decision: Decision, stops: bool) -> tuple[AgentRunStatus, StopReason | None]:
    if decision.action is DecisionAction.fail:
        if decision.stop_reason is StopReason.canceled:
            # The provider canceled the request (the job's batch was cancelled).
            return AgentRunStatus.cancelled, StopReason.cancelled
        return AgentRunStatus.failed, decision.stop_reason or StopReason.error
    if decision.action is DecisionAction.approval:
        return AgentRunStatus.requires_approval, StopReason.requires_approval
    if not stops:
        return AgentRunStatus.running, None
    return AgentRunStatus.completed, decision.stop_reason or StopReason.end_turn


def _text(value: Any) -> str:
    """What the model sees of a stored tool result (a ToolResult dump or plain text)."""
    if value is None:
        return "None"
    if isinstance(value, dict) and "func_response" in value:
        return str(value["func_response"])
    if isinstance(value, str):
        return value
    import json

    return json.dumps(value, ensure_ascii=False)
