"""Message builders for one agent step (Letta's ``create_letta_messages_from_llm_response``).

Every id is ``derived_id("message", item_id, slot)``: re-running persist for an item
rebuilds the same ids, so inserts are idempotent. Slots: ``input:<i>``, ``assistant``,
``tool`` and ``heartbeat`` (see ``heartbeat.py``). Fixes over Letta's batch path (§8.7):
the provider's ``toolu_…`` id is kept, reasoning blocks keep their signatures, and the
persisted ``request_heartbeat`` is what the model sent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from letta_batch import ids
from letta_batch.schemas.enums import MessageRole
from letta_batch.schemas.message import (
    ImageContent,
    Message,
    MessageContent,
    MessageCreate,
    TextContent,
    ToolCall,
    ToolCallFunction,
    ToolReturn,
)
from letta_batch.stepping.constants import REQUEST_HEARTBEAT_PARAM
from letta_batch.stepping.decide import Decision, DecisionAction
from letta_batch.stepping.heartbeat import package_function_response
from letta_batch.stepping.outcome import StepOutcome

ASSISTANT_SLOT = "assistant"
TOOL_SLOT = "tool"


def message_id(item_id: str, slot: str) -> str:
    """Deterministic message id of ``slot`` in the step of ``item_id``."""
    return ids.derived_id(ids.MESSAGE, item_id, slot)


def input_slot(index: int) -> str:
    """Slot of the ``index``-th input message."""
    return f"input:{index}"


def _input_content(index: int, create: MessageCreate) -> list[MessageContent]:
    field = f"messages[{index}].content"
    if isinstance(create.content, str):
        if not create.content.strip():
            raise ValueError(f"{field} is empty")
        return [TextContent(text=create.content)]
    if not create.content:
        raise ValueError(f"{field} is empty")
    parts: list[MessageContent] = []
    for j, part in enumerate(create.content):
        if isinstance(part, TextContent) and not part.text.strip():
            raise ValueError(f"{field}[{j}].text is empty")
        if isinstance(part, ImageContent) and not part.data:
            raise ValueError(f"{field}[{j}].data is empty")
        parts.append(part.model_copy())
    return parts


def input_messages(
    agent_id: str,
    item_id: str,
    step: int,
    creates: Sequence[MessageCreate],
    *,
    organization_id: str | None = None,
    created_at: datetime | None = None,
) -> list[Message]:
    """The request's input messages as stored messages (raw text, no JSON wrapping).

    Raises ``ValueError`` naming the field (``messages[i].content``…) for empty content.
    """
    return [
        Message(
            id=message_id(item_id, input_slot(i)),
            agent_id=agent_id,
            organization_id=organization_id,
            role=MessageRole(create.role),
            content=_input_content(i, create),
            name=create.name,
            otid=create.otid,
            batch_item_id=item_id,
            step=step,
            created_at=created_at,
        )
        for i, create in enumerate(creates)
    ]


def _said(outcome: StepOutcome, inner_thoughts: str | None) -> list[MessageContent]:
    """Reasoning (signatures kept), then text, then inner thoughts; empty text dropped."""
    parts: list[MessageContent] = [r.model_copy() for r in outcome.reasoning]
    for text in (outcome.text, inner_thoughts):
        if text:
            parts.append(TextContent(text=text))
    return parts


def assistant_message(
    agent_id: str,
    item_id: str,
    step: int,
    outcome: StepOutcome,
    decision: Decision,
    *,
    model: str | None = None,
    organization_id: str | None = None,
    created_at: datetime | None = None,
) -> Message:
    """The assistant turn with its tool call (executed, refused or awaiting approval).

    ``arguments`` is ``json.dumps(tool_args | {"request_heartbeat": <what the model sent>})``.
    """
    call = decision.tool_call
    if call is None or decision.action is DecisionAction.fail:
        raise ValueError("assistant_message needs a decision with a tool call; use failure_message")
    arguments = json.dumps(
        decision.tool_args | {REQUEST_HEARTBEAT_PARAM: decision.request_heartbeat}
    )
    return Message(
        id=message_id(item_id, ASSISTANT_SLOT),
        agent_id=agent_id,
        organization_id=organization_id,
        role=MessageRole.assistant,
        content=_said(outcome, decision.inner_thoughts),
        model=model or outcome.model,
        tool_calls=[
            ToolCall(id=call.id, function=ToolCallFunction(name=call.name, arguments=arguments))
        ],
        tool_call_id=call.id,
        batch_item_id=item_id,
        step=step,
        created_at=created_at,
    )


def failure_message(
    agent_id: str,
    item_id: str,
    step: int,
    outcome: StepOutcome,
    decision: Decision | None = None,
    *,
    model: str | None = None,
    organization_id: str | None = None,
    created_at: datetime | None = None,
) -> Message | None:
    """An assistant message (no tool calls) keeping what a failed step's model said.

    For text-only replies, unknown stop reasons, malformed calls…: reasoning, text and inner
    thoughts are kept so nothing the model said is lost. None when it said nothing (e.g. an
    errored request). It has no tool call, so no tool_result is owed on the next turn.
    """
    thoughts = decision.inner_thoughts if decision else None
    content = _said(outcome, thoughts or outcome.inner_thoughts)
    if not content:
        return None
    return Message(
        id=message_id(item_id, ASSISTANT_SLOT),
        agent_id=agent_id,
        organization_id=organization_id,
        role=MessageRole.assistant,
        content=content,
        model=model or outcome.model,
        batch_item_id=item_id,
        step=step,
        created_at=created_at,
    )


def tool_message(
    agent_id: str,
    item_id: str,
    step: int,
    *,
    tool_call_id: str,
    tool_name: str,
    succeeded: bool,
    func_return: Any,
    now: datetime,
    timezone: str | None,
    stdout: list[str] | None = None,
    stderr: list[str] | None = None,
    model: str | None = None,
    organization_id: str | None = None,
) -> Message:
    """The tool's return. ``func_return`` should already be truncated
    (``truncate_function_return``). ``tool_returns[0].func_response`` holds the packaged
    JSON, as Letta's current code does."""
    packaged = package_function_response(succeeded, func_return, now, timezone)
    status = "success" if succeeded else "error"
    return Message(
        id=message_id(item_id, TOOL_SLOT),
        agent_id=agent_id,
        organization_id=organization_id,
        role=MessageRole.tool,
        content=[TextContent(text=packaged)],
        name=tool_name,
        model=model,
        tool_call_id=tool_call_id,
        tool_returns=[
            ToolReturn(
                tool_call_id=tool_call_id,
                status=status,
                stdout=stdout,
                stderr=stderr,
                func_response=packaged,
            )
        ],
        batch_item_id=item_id,
        step=step,
        created_at=now,
    )


def refusal_tool_message(
    agent_id: str,
    item_id: str,
    step: int,
    decision: Decision,
    now: datetime,
    timezone: str | None,
    *,
    model: str | None = None,
    organization_id: str | None = None,
) -> Message:
    """The failed tool return of a refused call (``decision.reason`` is the text)."""
    call = decision.tool_call
    if decision.action is not DecisionAction.refuse_tool or call is None:
        raise ValueError("refusal_tool_message needs a refuse_tool decision")
    return tool_message(
        agent_id,
        item_id,
        step,
        tool_call_id=call.id,
        tool_name=call.name,
        succeeded=False,
        func_return=decision.reason,
        now=now,
        timezone=timezone,
        model=model,
        organization_id=organization_id,
    )
