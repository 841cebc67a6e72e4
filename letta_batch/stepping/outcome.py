"""``StepOutcome``: one Anthropic batch result row, parsed into what stepping needs.

The parser never raises on a row's content: a row it cannot understand becomes an
``errored`` outcome with ``error_type="malformed_result"``, so one odd row fails one agent
instead of the whole step (Letta's resume crashed on such rows, §8.4).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from letta_batch.schemas.message import ReasoningContent, RedactedReasoningContent
from letta_batch.stepping.constants import INNER_THOUGHTS_KWARG

ResultType = Literal["succeeded", "errored", "expired", "canceled"]
"""The provider's per-request result type."""

MALFORMED_RESULT = "malformed_result"
"""``error_type`` of rows whose shape is not a batch result."""


class Usage(BaseModel):
    """Token usage of one model call (``message.usage``)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    @property
    def total_input_tokens(self) -> int:
        """Input + cache creation + cache read (Anthropic's definition of total input)."""
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens


class ParsedToolCall(BaseModel):
    """One ``tool_use`` block. ``input`` is None when its arguments are not a JSON object."""

    id: str
    """The provider's ``toolu_…`` id (kept so tool_use / tool_result pair up, §8.7)."""
    name: str
    arguments_json: str
    """The arguments as JSON text (the raw text when they could not be parsed)."""
    input: dict[str, Any] | None = None
    parse_error: str | None = None
    """Why ``input`` is None; the agent then fails with ``invalid_tool_call``."""


class StepOutcome(BaseModel):
    """What the model answered (or why it did not) for one agent in one step."""

    custom_id: str | None = None
    result_type: ResultType
    message_id: str | None = None
    model: str | None = None
    """The resolved model snapshot the provider reports."""
    stop_reason: str | None = None
    stop_sequence: str | None = None
    tool_calls: list[ParsedToolCall] = Field(default_factory=list)
    text: str | None = None
    """Concatenated ``text`` blocks (``<thinking>`` tags stripped, as Letta); None if none."""
    reasoning: list[ReasoningContent | RedactedReasoningContent] = Field(default_factory=list)
    """Thinking blocks with their signatures, and redacted thinking, in response order."""
    inner_thoughts: str | None = None
    """The ``thinking`` tool argument, moved out when inner thoughts are in kwargs."""
    usage: Usage | None = None
    error_type: str | None = None
    """Inner error category of an errored row (``result.error.error.type``)."""
    error_message: str | None = None
    request_id: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.result_type == "succeeded"

    @property
    def tool_call(self) -> ParsedToolCall | None:
        """The first tool call (requests disable parallel tool use; Letta reads ``[0]``)."""
        return self.tool_calls[0] if self.tool_calls else None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    return Usage(**{name: _int(raw.get(name)) for name in Usage.model_fields})


def _strip_thinking_tags(text: str) -> str:
    return text.replace("<thinking>", "").replace("</thinking>", "")


def _tool_call(block: dict[str, Any], kwargs_thoughts: bool) -> tuple[ParsedToolCall, Any]:
    """Parse a ``tool_use`` block; also returns the popped inner-thoughts value (or None)."""
    raw = block.get("input")
    error: str | None = None
    if isinstance(raw, str):
        # Letta's comment: Anthropic sometimes returns the object JSON-encoded as a string.
        try:
            decoded = json.loads(raw)
        except ValueError as exc:
            decoded, error = None, f"arguments are not valid JSON: {exc}"
        if error is None and not isinstance(decoded, dict):
            error = f"arguments must be a JSON object, got {type(decoded).__name__}"
        parsed = decoded if error is None else None
    elif isinstance(raw, dict):
        parsed = dict(raw)
    else:
        parsed, error = None, f"arguments must be a JSON object, got {type(raw).__name__}"
    thoughts = None
    if parsed is not None and kwargs_thoughts:
        thoughts = parsed.pop(INNER_THOUGHTS_KWARG, None)
    if parsed is not None:
        arguments = json.dumps(parsed)
    else:
        arguments = raw if isinstance(raw, str) else json.dumps(raw, default=str)
    call = ParsedToolCall(
        id=str(block.get("id") or ""),
        name=str(block.get("name") or ""),
        arguments_json=arguments,
        input=parsed,
        parse_error=error,
    )
    return call, thoughts


def _succeeded(base: dict[str, Any], message: Any, kwargs_thoughts: bool) -> StepOutcome:
    if not isinstance(message, dict) or not isinstance(message.get("content", []), list):
        return _malformed(base, "succeeded result without a message")
    texts: list[str] = []
    reasoning: list[ReasoningContent | RedactedReasoningContent] = []
    calls: list[ParsedToolCall] = []
    inner: str | None = None
    for block in message.get("content") or []:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            texts.append(_strip_thinking_tags(str(block.get("text") or "")))
        elif kind == "thinking":
            reasoning.append(
                ReasoningContent(
                    reasoning=str(block.get("thinking") or ""), signature=block.get("signature")
                )
            )
        elif kind == "redacted_thinking":
            reasoning.append(RedactedReasoningContent(data=str(block.get("data") or "")))
        elif kind == "tool_use":
            call, thoughts = _tool_call(block, kwargs_thoughts)
            calls.append(call)
            if inner is None and isinstance(thoughts, str):
                inner = thoughts
        # Server-tool blocks (web search, code execution, …) are never requested; ignored.
    text = "".join(texts)
    return StepOutcome(
        **base,
        result_type="succeeded",
        message_id=message.get("id"),
        model=message.get("model"),
        stop_reason=message.get("stop_reason"),
        stop_sequence=message.get("stop_sequence"),
        tool_calls=calls,
        text=text or None,
        reasoning=reasoning,
        inner_thoughts=inner,
        usage=_usage(message.get("usage")),
    )


def _malformed(base: dict[str, Any], why: str) -> StepOutcome:
    return StepOutcome(
        **base, result_type="errored", error_type=MALFORMED_RESULT, error_message=why
    )


def _errored(base: dict[str, Any], error: Any) -> StepOutcome:
    envelope: dict[str, Any] = error if isinstance(error, dict) else {}
    # ``result.error`` is a whole error envelope: the category is one level down.
    nested = envelope.get("error")
    inner: dict[str, Any] = nested if isinstance(nested, dict) else envelope
    return StepOutcome(
        **base,
        result_type="errored",
        error_type=inner.get("type") or "error",
        error_message=inner.get("message") or (None if envelope else "errored without details"),
        request_id=envelope.get("request_id"),
    )


def parse_result(row: dict[str, Any], *, inner_thoughts_in_kwargs: bool) -> StepOutcome:
    """Parse one ``MessageBatchIndividualResponse`` JSON dict.

    With ``inner_thoughts_in_kwargs`` the ``thinking`` argument of each tool call is removed
    from its arguments; the first string value becomes ``inner_thoughts``.
    """
    if not isinstance(row, dict):
        return _malformed({}, f"result row must be an object, got {type(row).__name__}")
    custom_id = row.get("custom_id")
    base: dict[str, Any] = {"custom_id": custom_id if isinstance(custom_id, str) else None}
    result = row.get("result")
    kind = result.get("type") if isinstance(result, dict) else None
    if not isinstance(result, dict):
        return _malformed(base, "result row without a result object")
    if kind == "succeeded":
        return _succeeded(base, result.get("message"), inner_thoughts_in_kwargs)
    if kind == "errored":
        return _errored(base, result.get("error"))
    if kind in ("expired", "canceled"):
        return StepOutcome(**base, result_type=kind)
    return _malformed(base, f"unknown result type {kind!r}")


def parse_item_result(row: dict[str, Any], llm_config: dict[str, Any] | None) -> StepOutcome:
    """``parse_result`` for an item whose stored ``llm_config`` says how its request was made
    (``put_inner_thoughts_in_kwargs``)."""
    return parse_result(
        row, inner_thoughts_in_kwargs=bool((llm_config or {}).get("put_inner_thoughts_in_kwargs"))
    )
