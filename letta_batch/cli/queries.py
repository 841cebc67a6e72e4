"""Read-only database queries behind ``status``, ``watch``, ``messages``, ``jobs`` and the demo.

Each is a fixed number of statements whatever the job size (grouped counts, SQL sums over
JSON), so the CLI stays usable on 100,000-agent jobs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch.db.models_agents import AgentRow, MessageRow
from letta_batch.db.models_batch import BatchJobAgentRow, BatchJobRow, LLMBatchItemRow

#: Item step statuses that mean "this agent is done with the step".
STEP_DONE = ("completed", "failed", "cancelled")
FINAL_JOB_STATUSES = frozenset({"completed", "completed_with_failures", "failed", "cancelled"})


@dataclass
class StepCount:
    """Agents of one step: how many were stepped and how many are through it."""

    step: int
    total: int
    done: int
    failed: int


async def list_jobs(
    session: AsyncSession, org: str, status: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The organization's jobs, newest first, finished ones included (Letta hides those)."""
    stmt = select(BatchJobRow).where(BatchJobRow.organization_id == org)
    if status:
        stmt = stmt.where(BatchJobRow.status == status)
    rows = (await session.scalars(stmt.order_by(BatchJobRow.created_at.desc()).limit(limit))).all()
    return [
        {
            "job_id": r.id,
            "status": r.status,
            "agent_count": r.agent_count,
            "current_step": r.current_step,
            "max_steps": r.max_steps,
            "created_at": r.created_at.isoformat() if r.created_at else None,
            "completed_at": r.completed_at.isoformat() if r.completed_at else None,
        }
        for r in rows
    ]


async def step_counts(session: AsyncSession, job_id: str) -> list[StepCount]:
    """Per step: items, items through the step, failed items (one grouped query)."""
    rows = (
        await session.execute(
            select(LLMBatchItemRow.step, LLMBatchItemRow.step_status, func.count())
            .where(LLMBatchItemRow.letta_batch_job_id == job_id)
            .group_by(LLMBatchItemRow.step, LLMBatchItemRow.step_status)
        )
    ).all()
    by_step: dict[int, StepCount] = {}
    for step, status, count in rows:
        entry = by_step.setdefault(step, StepCount(step=step, total=0, done=0, failed=0))
        entry.total += count
        if status in STEP_DONE:
            entry.done += count
        if status == "failed":
            entry.failed += count
    return [by_step[s] for s in sorted(by_step)]


async def tokens_used(session: AsyncSession, job_id: str) -> dict[str, int]:
    """Input/output tokens the provider reported for the job's results (summed in SQL)."""
    usage = LLMBatchItemRow.batch_request_result["result"]["message"]["usage"]
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(usage["input_tokens"].as_integer()), 0),
                func.coalesce(func.sum(usage["output_tokens"].as_integer()), 0),
            ).where(LLMBatchItemRow.letta_batch_job_id == job_id)
        )
    ).one()
    return {"input_tokens": int(row[0]), "output_tokens": int(row[1])}


def message_text(role: str, content: Any, tool_calls: Any) -> str:
    """What a person reads of a message: text parts, or a ``send_message`` call's message."""
    for call in tool_calls or []:
        function = call.get("function", {}) if isinstance(call, dict) else {}
        if function.get("name") == "send_message":
            try:
                return str(json.loads(function.get("arguments") or "{}").get("message", ""))
            except (ValueError, AttributeError):
                return str(function.get("arguments"))
    parts = [p.get("text", "") for p in content or [] if isinstance(p, dict) and "text" in p]
    text = "".join(parts)
    if not text and tool_calls:
        names = [c.get("function", {}).get("name", "?") for c in tool_calls if isinstance(c, dict)]
        return f"(calls {', '.join(names)})"
    return text


async def job_messages(
    session: AsyncSession, org: str, job_id: str, agent_id: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Messages the job wrote, joined through its batch items, in insertion order."""
    stmt = (
        select(MessageRow)
        .join(LLMBatchItemRow, LLMBatchItemRow.id == MessageRow.batch_item_id)
        .where(
            LLMBatchItemRow.letta_batch_job_id == job_id,
            LLMBatchItemRow.organization_id == org,
            MessageRow.organization_id == org,
        )
        .order_by(MessageRow.sequence_id)
    )
    if agent_id:
        stmt = stmt.where(MessageRow.agent_id == agent_id)
    if limit:
        stmt = stmt.limit(limit)
    return [
        {
            "id": m.id,
            "agent_id": m.agent_id,
            "role": m.role,
            "step": m.step,
            "sequence_id": m.sequence_id,
            "content": m.content,
            "tool_calls": m.tool_calls,
            "tool_call_id": m.tool_call_id,
            "tool_returns": m.tool_returns,
            "batch_item_id": m.batch_item_id,
            "created_at": m.created_at.isoformat() if m.created_at else None,
            "text": message_text(m.role, m.content, m.tool_calls),
        }
        for m in (await session.scalars(stmt)).all()
    ]


async def agent_summaries(session: AsyncSession, org: str, job_id: str) -> list[dict[str, Any]]:
    """Per agent of the job: name, status, stop reason, steps and its last assistant message."""
    agents = (
        await session.execute(
            select(BatchJobAgentRow, AgentRow.name)
            .join(AgentRow, AgentRow.id == BatchJobAgentRow.agent_id)
            .where(BatchJobAgentRow.job_id == job_id, BatchJobAgentRow.organization_id == org)
            .order_by(BatchJobAgentRow.position)
        )
    ).all()
    last: dict[str, str] = {}
    for message in await job_messages(session, org, job_id):
        if message["role"] == "assistant" and message["text"]:
            last[message["agent_id"]] = message["text"]
    return [
        {
            "agent_id": row.agent_id,
            "name": name,
            "status": row.status,
            "stop_reason": row.stop_reason,
            "reason": row.reason,
            "steps": row.steps,
            "last_assistant_message": last.get(row.agent_id, ""),
        }
        for row, name in agents
    ]
