"""Realistic Anthropic batch result rows (shapes from spec anthropic-batches.md §1.6/§4.3)."""

from __future__ import annotations

import json
from typing import Any

from letta_batch.schemas import AgentStepState
from letta_batch.stepping import Decision, StepOutcome, decide, parse_result
from letta_batch.tool_rules import ToolRulesSolver

SIGNATURE = "EqQBCkgIBRABGAIiQL1mSignatureBytesBase64=="
USAGE = {
    "input_tokens": 412,
    "cache_creation_input_tokens": 100,
    "cache_read_input_tokens": 2000,
    "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 0},
    "output_tokens": 57,
    "service_tier": "batch",
    "inference_geo": "not_available",
}


def tool_use(name: str, input: Any, call_id: str = "toolu_01D7FLrfh4GYq7yT1ULFeyMV") -> dict:
    return {
        "type": "tool_use",
        "id": call_id,
        "name": name,
        "input": input,
        "caller": {"type": "direct"},
    }


def thinking(text: str = "The user wants the weather.", signature: str = SIGNATURE) -> dict:
    return {"type": "thinking", "thinking": text, "signature": signature}


def text(value: str) -> dict:
    return {"type": "text", "text": value, "citations": None}


def succeeded_row(
    content: list[dict], stop_reason: str = "tool_use", custom_id: str = "batch_item-1"
) -> dict:
    return {
        "custom_id": custom_id,
        "result": {
            "type": "succeeded",
            "message": {
                "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5-20250929",
                "content": content,
                "stop_reason": stop_reason,
                "stop_sequence": None,
                "stop_details": None,
                "container": None,
                "usage": USAGE,
            },
        },
    }


ERRORED_ROW = {
    "custom_id": "batch_item-bad",
    "result": {
        "type": "errored",
        "error": {
            "type": "error",
            "error": {
                "details": {"error_visibility": "user_facing"},
                "type": "not_found_error",
                "message": "model: claude-does-not-exist-9",
            },
            "request_id": None,
        },
    },
}
CANCELED_ROW = {"custom_id": "batch_item-c", "result": {"type": "canceled"}}
EXPIRED_ROW = {"custom_id": "batch_item-e", "result": {"type": "expired"}}


def call_outcome(
    name: str,
    args: Any = None,
    *,
    stop_reason: str = "tool_use",
    kwargs_thoughts: bool = False,
    extra: list[dict] | None = None,
) -> StepOutcome:
    """A succeeded outcome whose reply is ``extra`` blocks then one tool call."""
    content = [*(extra or []), tool_use(name, {} if args is None else args)]
    return parse_result(
        succeeded_row(content, stop_reason), inner_thoughts_in_kwargs=kwargs_thoughts
    )


def text_outcome(value: str = "Hello again!", stop_reason: str = "end_turn") -> StepOutcome:
    return parse_result(succeeded_row([text(value)], stop_reason), inner_thoughts_in_kwargs=False)


# --- decide helpers ---------------------------------------------------------------------
AVAILABLE = ["get_weather", "route", "save_notes", "search", "send_message", "wire_money"]
HB = {"request_heartbeat": True}


def state(
    rules: Any = (), history: Any = (), step: int = 0, last: str | None = None
) -> AgentStepState:
    """A step state with ``rules`` and ``history``."""
    solver = ToolRulesSolver(tool_rules=list(rules), tool_call_history=list(history))
    return AgentStepState(step_number=step, tool_rules_solver=solver, last_function_response=last)


def run(
    outcome: StepOutcome, st: AgentStepState | None = None, max_steps: int = 50, **kw: Any
) -> Decision:
    return decide(
        outcome,
        st or state(),
        available_tools=kw.pop("available", AVAILABLE),
        max_steps=max_steps,
        **kw,
    )


def resp(message: Any) -> str:
    return json.dumps({"status": "OK", "message": message, "time": "t"}, indent=2)
