"""Letta messages → Anthropic ``messages`` turns (Letta's ``Message.to_anthropic_dict``).

One turn per message, then whole-list passes (see `finalize_turns`). Differences from Letta,
each deliberate:
- tool calls keep the stored provider id (``toolu_…``) so ``tool_use``/``tool_result`` pair
  up on the next step (§8.7);
- reasoning parts become ``thinking`` blocks (with signature) or ``redacted_thinking``, placed
  first in the assistant turn as extended thinking requires; they are sent only when the
  message came from the same model (signatures are model-bound) or its model is unknown;
- ``request_heartbeat`` stays in a ``tool_use`` input only if that tool is offered it now
  (kept here in every call; ``context_turns.drop_heartbeat_args`` removes it per step);
- with inner thoughts in kwargs, the assistant's text goes into the ``thinking`` argument
  instead of a text block (Letta sent a dump of the whole tool call object as ``input``);
- a mid-history system message becomes ``<event>SYSTEM ALERT: …</event>`` (Letta dropped ``>``).
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from letta_batch import json_codec
from letta_batch.schemas.enums import MessageRole
from letta_batch.schemas.message import (
    ImageContent,
    Message,
    ReasoningContent,
    RedactedReasoningContent,
    TextContent,
)
from letta_batch.stepping.constants import INNER_THOUGHTS_KWARG

log = logging.getLogger(__name__)
_SNAPSHOT = re.compile(r"-(\d{8}|latest)$")

Turn = dict[str, Any]


def strip_prefix(model: str) -> str:
    """``anthropic/claude-x`` → ``claude-x``."""
    return model.split("/", 1)[1] if "/" in model else model


@functools.lru_cache(maxsize=256)  # called per message per agent with a handful of models
def _model_family(model: str) -> str:
    return _SNAPSHOT.sub("", strip_prefix(model))


def same_model(message_model: str | None, current_model: str) -> bool:
    """Whether reasoning signed by `message_model` can be replayed to `current_model`.

    Aliases and snapshots match (``claude-sonnet-4-5`` vs ``claude-sonnet-4-5-20250929``):
    the result's ``model`` is the resolved snapshot even when an alias was requested.
    """
    if message_model is None:
        return True
    return _model_family(message_model) == _model_family(current_model)


def _args(message: Message, raw: str) -> dict[str, Any]:
    try:
        value = json_codec.loads(raw) if raw else {}
    except json.JSONDecodeError:
        log.warning("message %s: tool call arguments are not JSON; sending {}", message.id)
        return {}
    return value if isinstance(value, dict) else {}


def _assistant(
    message: Message,
    *,
    current_model: str,
    inner_thoughts: bool,
) -> Turn:
    thinking: list[dict[str, Any]] = []
    texts: list[dict[str, Any]] = []
    replay = same_model(message.model, current_model)
    for part in message.content:
        if isinstance(part, ReasoningContent) and replay:
            block = {"type": "thinking", "thinking": part.reasoning, "signature": part.signature}
            thinking.append(block)
        elif isinstance(part, RedactedReasoningContent) and replay:
            thinking.append({"type": "redacted_thinking", "data": part.data})
        elif isinstance(part, TextContent):
            texts.append({"type": "text", "text": part.text})
    tool_uses: list[dict[str, Any]] = []
    for call in message.tool_calls or []:
        args = _args(message, call.function.arguments)
        if inner_thoughts:
            thoughts = "".join(t["text"] for t in texts)
            if thoughts and INNER_THOUGHTS_KWARG not in args:
                args = {INNER_THOUGHTS_KWARG: thoughts, **args}
        tool_uses.append(
            {"type": "tool_use", "id": call.id, "name": call.function.name, "input": args}
        )
    if inner_thoughts and tool_uses:
        texts = []  # carried by the ``thinking`` argument
    return {"role": "assistant", "content": [*thinking, *texts, *tool_uses]}


def _user(message: Message) -> Turn:
    parts = message.content
    if len(parts) == 1 and isinstance(parts[0], TextContent):
        return {"role": "user", "content": parts[0].text}
    blocks: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, TextContent):
            blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, ImageContent):
            source = {"type": "base64", "media_type": part.media_type, "data": part.data}
            blocks.append({"type": "image", "source": source})
    return {"role": "user", "content": blocks}


def _tool(message: Message) -> Turn:
    blocks: list[dict[str, Any]] = []
    for ret in message.tool_returns or []:
        content = ret.func_response if ret.func_response is not None else message.text()
        blocks.append({"type": "tool_result", "tool_use_id": ret.tool_call_id, "content": content})
    if not blocks:
        if not message.tool_call_id:
            raise ValueError(f"tool message {message.id} has no tool_call_id to pair with")
        blocks.append(
            {"type": "tool_result", "tool_use_id": message.tool_call_id, "content": message.text()}
        )
    return {"role": "user", "content": blocks}


def convert_message(
    message: Message,
    *,
    current_model: str,
    inner_thoughts: bool,
) -> Turn | None:
    """One Anthropic turn for `message` (None for messages the API never sees).

    Tool calls keep their ``request_heartbeat`` argument: whether the request sends it
    depends on the step's terminal tools, not on the message, so
    ``context_turns.drop_heartbeat_args`` removes it per request."""
    role = message.role
    if role in (MessageRole.assistant, MessageRole.approval):
        if role is MessageRole.approval and not message.tool_calls:
            return None
        return _assistant(
            message,
            current_model=current_model,
            inner_thoughts=inner_thoughts,
        )
    if role in (MessageRole.tool, MessageRole.function):
        return _tool(message)
    if role is MessageRole.system:
        return {"role": "user", "content": f"<event>SYSTEM ALERT: {message.text()}</event>"}
    return _user(message)  # user and summary messages


def convert_messages(
    messages: Sequence[Message],
    *,
    current_model: str,
    inner_thoughts: bool,
) -> list[Turn]:
    """Turns for `messages` (the history after the system message), one per message."""
    turns = (
        convert_message(m, current_model=current_model, inner_thoughts=inner_thoughts)
        for m in messages
    )
    return [t for t in turns if t is not None]
