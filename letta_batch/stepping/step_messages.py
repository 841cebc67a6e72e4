"""Assemble the messages one agent's step leaves behind (assistant call, tool return, heartbeat).

Pure: ids derive from the item id, so building them again yields the same messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from letta_batch.schemas import Message
from letta_batch.stepping.constants import truncate_function_return
from letta_batch.stepping.decide import Decision, DecisionAction, finalize_after_tool
from letta_batch.stepping.heartbeat import heartbeat_message
from letta_batch.stepping.messages import (
    assistant_message,
    failure_message,
    refusal_tool_message,
    tool_message,
)
from letta_batch.stepping.outcome import StepOutcome


@dataclass(frozen=True)
class StepMessages:
    messages: list[Message]
    decision: Decision
    """The decision with the tool's result folded in (next state, heartbeat kind)."""


def step_messages(
    *,
    agent_id: str,
    item_id: str,
    step: int,
    decision: Decision,
    outcome: StepOutcome | None,
    execution_status: str | None,
    execution_result: str | None,
    now: datetime,
    timezone: str | None,
    model: str | None,
    organization_id: str | None = None,
    return_char_limit: int | None = None,
) -> StepMessages:
    """Messages for ``decision``; ``execution_*`` is the stored tool execution, if any."""
    out: list[Message] = []
    common: dict[str, Any] = {"organization_id": organization_id}
    if decision.action is DecisionAction.fail:
        said = (
            failure_message(
                agent_id, item_id, step, outcome, decision, model=model, created_at=now, **common
            )
            if outcome is not None
            else None
        )
        return StepMessages([said] if said else [], decision)
    assert outcome is not None and decision.tool_call is not None
    out.append(
        assistant_message(
            agent_id, item_id, step, outcome, decision, model=model, created_at=now, **common
        )
    )
    if decision.action is DecisionAction.approval:
        return StepMessages(out, decision)
    if decision.action is DecisionAction.refuse_tool:
        out.append(
            refusal_tool_message(
                agent_id, item_id, step, decision, now, timezone, model=model, **common
            )
        )
    else:
        succeeded = execution_status == "succeeded"
        text = (
            execution_result
            if execution_result is not None
            else (
                "Tool execution did not complete"
                if execution_status in (None, "pending")
                else "None"
            )
        )
        tool_msg = tool_message(
            agent_id,
            item_id,
            step,
            tool_call_id=decision.tool_call.id,
            tool_name=decision.tool_call.name,
            succeeded=succeeded,
            func_return=truncate_function_return(text, return_char_limit),
            now=now,
            timezone=timezone,
            model=model,
            **common,
        )
        out.append(tool_msg)
        decision = finalize_after_tool(decision, succeeded, tool_msg.text())
    if decision.continue_stepping and decision.heartbeat_kind is not None:
        out.append(
            heartbeat_message(
                agent_id,
                item_id,
                step,
                decision.heartbeat_kind,
                now,
                timezone,
                decision.uncalled_required_tools,
                model=model,
                **common,
            )
        )
    return StepMessages(out, decision)
