"""Write a chunk of finished items: their messages, ``message_ids``, item and agent statuses.

Shared by ``persist_step`` (items decided earlier, tool results read back from the database)
and ``settle_step`` (items decided and their built-in tools run in the same transaction).
Message ids derive from the item id, inserts ignore existing ids and ``message_ids`` only
gains ids it lacks, so writing the same items again writes nothing twice. Settle, which
only writes items nothing has written (``pending`` ones, whose status changes in the same
transaction), inserts its messages as new instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from letta_batch.contracts import PersistStepOutput
from letta_batch.db.models_agents import AgentRow
from letta_batch.db.models_batch import BatchJobAgentRow, LLMBatchItemRow
from letta_batch.repositories.agents import set_message_ids
from letta_batch.repositories.bulk import dialect_name, in_values, update_rows
from letta_batch.repositories.messages import insert_messages, insert_new_messages
from letta_batch.schemas import AgentRunStatus, ItemStepStatus, Message, StopReason
from letta_batch.services.runtime import ServiceContext
from letta_batch.stepping.decide import Decision, DecisionAction
from letta_batch.stepping.outcome import StepOutcome
from letta_batch.stepping.step_messages import step_messages


@dataclass(frozen=True)
class FinishedItem:
    """One item ready to be written: its decision, parsed result and tool execution."""

    item: Any
    """The item's ``id``, ``agent_id``, ``letta_batch_job_id``, ``step`` and ``llm_config``."""
    decision: Decision
    outcome: StepOutcome | None
    """None when the provider returned nothing for the item."""
    execution_status: str | None = None
    """The tool execution's stored status (``succeeded``, ``failed``…), None without one."""
    execution_text: str | None = None
    """What the model sees of the tool's result or error."""


async def load_agent_states(session: Any, org: str, agent_ids: Sequence[str]) -> dict[str, Any]:
    """``{agent_id: row}`` with the columns writing a step needs (one query)."""
    rows = await session.execute(
        select(
            AgentRow.id,
            AgentRow.message_ids,
            AgentRow.message_buffer_autoclear,
            AgentRow.timezone,
        ).where(
            in_values(AgentRow.__table__.c.id, list(agent_ids), dialect_name(session)),
            AgentRow.organization_id == org,
        )
    )
    return {a.id: a for a in rows.all()}


async def write_finished(
    ctx: ServiceContext,
    session: Any,
    org: str,
    finished: Sequence[FinishedItem],
    agents: dict[str, Any],
    out: PersistStepOutput,
    *,
    with_reason: bool = False,
    messages_are_new: bool = False,
) -> None:
    """Write ``finished`` items (``agents`` from :func:`load_agent_states`); counts into
    ``out``. Four statements or so whatever the number of items.

    ``with_reason`` also sets the items' ``stop_reason`` and ``error`` as ``apply_decisions``
    does (settle writes an item once; ``item.error`` is then read as well).
    ``messages_are_new`` when no attempt can have written these items' messages yet
    (:func:`insert_new_messages`): persist re-reads failed items it wrote, settle does not."""
    now = ctx.clock()
    messages: list[Message] = []
    new_ids: dict[str, list[str]] = {}
    item_updates: list[dict[str, Any]] = []
    agent_updates: list[dict[str, Any]] = []
    for entry in finished:
        item = entry.item
        agent = agents[item.agent_id]
        built = step_messages(
            agent_id=item.agent_id,
            item_id=item.id,
            step=item.step,
            decision=entry.decision,
            outcome=entry.outcome,
            execution_status=entry.execution_status,
            execution_result=entry.execution_text,
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
        _count(out, status, len(built.messages))
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
        failed = decision.action is DecisionAction.fail
        update = {
            "id": item.id,
            "decision": decision.model_dump(mode="json"),
            "step_status": (ItemStepStatus.failed if failed else ItemStepStatus.completed).value,
            "updated_at": now,
        }
        if with_reason:
            update["stop_reason"] = decision.stop_reason.value if decision.stop_reason else None
            update["error"] = decision.reason if failed else item.error
        item_updates.append(update)
    if messages_are_new:
        await insert_new_messages(session, org, messages)
    else:
        await insert_messages(session, org, messages)
    if new_ids:
        await set_message_ids(session, org, new_ids)
    await update_rows(session, LLMBatchItemRow.__table__, item_updates)
    await update_rows(
        session,
        BatchJobAgentRow.__table__,
        agent_updates,
        key_columns=("job_id", "agent_id"),
        # One job: its id adds one value, the agents' ids pick the rows.
        lookup=("job_id", "agent_id"),
    )


def _count(out: PersistStepOutput, status: AgentRunStatus, messages: int) -> None:
    out.messages_written += messages
    if status is AgentRunStatus.running:
        out.continuing += 1
    elif status in (AgentRunStatus.failed, AgentRunStatus.cancelled):
        out.failed += 1
    elif status is AgentRunStatus.requires_approval:
        out.requires_approval += 1
    else:
        out.completed += 1


def _final_status(decision: Decision, stops: bool) -> tuple[AgentRunStatus, StopReason | None]:
    """The agent's run status and stop reason after this step."""
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
