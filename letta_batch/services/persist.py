"""Phase ``persist``: write the step's messages, extend ``message_ids``, set agent statuses.

Message ids are derived from the item id, inserts ignore existing ids and ``message_ids`` only
gains ids it lacks, so a re-run after a crash writes nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch.contracts import PersistStepInput, PersistStepOutput, Shard
from letta_batch.db.models_batch import BatchJobAgentRow, LLMBatchItemRow, ToolExecutionRow
from letta_batch.repositories.bulk import dialect_name, in_values
from letta_batch.schemas import AgentRunStatus, AgentStepState, ItemStepStatus, StopReason
from letta_batch.services.item_chunks import for_each_chunk
from letta_batch.services.persist_items import FinishedItem, load_agent_states, write_finished
from letta_batch.services.runtime import ServiceContext
from letta_batch.services.shards import chunk_size, items_of
from letta_batch.stepping.decide import Decision, failed_decision
from letta_batch.stepping.outcome import parse_item_result

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
    # For items that failed at build (no decision): the state and the recorded reason.
    LLMBatchItemRow.step_state,
    LLMBatchItemRow.stop_reason,
    LLMBatchItemRow.error,
)


async def persist_step(ctx: ServiceContext, arg: PersistStepInput) -> PersistStepOutput:
    out = PersistStepOutput()

    async def persist_chunk(session: AsyncSession, items: Sequence[Any]) -> None:
        await _persist_chunk(ctx, session, items, arg, out)

    await for_each_chunk(
        ctx,
        select(*_ITEM_COLUMNS).where(
            LLMBatchItemRow.llm_batch_id == arg.llm_batch_id,
            items_of(arg.shard),
            _to_persist(arg.after_settle),
        ),
        chunk_size(PERSIST_CHUNK, arg.shard),
        persist_chunk,
        after_commit="persist.after_commit",
    )
    return await _settled_counts(ctx, arg.llm_batch_id, arg.shard, out)


def _to_persist(after_settle: bool) -> Any:
    """Items persist writes: decided ones, and failed ones. After settle, a failed item with
    a decision was written by it; only those that failed at build (no decision) are left."""
    waiting = LLMBatchItemRow.step_status.in_(
        [ItemStepStatus.decided.value, ItemStepStatus.tools_done.value]
    )
    failed = LLMBatchItemRow.step_status == ItemStepStatus.failed.value
    if after_settle:
        failed = failed & LLMBatchItemRow.decision.is_(None)
    return or_(waiting, failed)


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
    dialect = dialect_name(session)
    agents = await load_agent_states(session, arg.organization_id, [i.agent_id for i in items])
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
    finished = []
    for item in items:
        execution = executions.get(item.id)
        succeeded = execution is not None and execution.status == "succeeded"
        finished.append(
            FinishedItem(
                item=item,
                decision=_stored_decision(item),
                outcome=parse_item_result(item.batch_request_result, item.llm_config)
                if item.batch_request_result
                else None,
                execution_status=execution.status if execution else None,
                execution_text=None
                if execution is None
                else _text(execution.result if succeeded else execution.error),
            )
        )
    await write_finished(ctx, session, arg.organization_id, finished, agents, out)


def _stored_decision(item: Any) -> Decision:
    """The item's stored decision; an item that failed at build has none, only its reason."""
    if item.decision is not None:
        return Decision.model_validate(item.decision)
    return failed_decision(
        AgentStepState.model_validate(item.step_state),
        StopReason(item.stop_reason) if item.stop_reason else StopReason.error,
        item.error or "the request could not be built",
    )


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
