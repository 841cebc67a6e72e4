"""Request params per agent config: thinking, v1, strict, inner-thoughts kwargs, models."""

from __future__ import annotations

import json

import pytest

from letta_batch.providers.anthropic import build_request_params
from letta_batch.schemas import (
    AgentType,
    TextContent,
    Tool,
)
from letta_batch.stepping.constants import REQUEST_HEARTBEAT_PARAM
from tests.providers.anthropic.sample import (
    AGENT_ID,
    HEARTBEAT,
    TERMINAL,
    TOOLS,
    blocks,
    build,
    sample_agent,
    sample_history,
    tool,
)


def test_thinking_off_uses_any_prefill_and_separate_heartbeat() -> None:
    p = build(enable_reasoner=False)
    assert "thinking" not in p and p["temperature"] == 0.7
    assert p["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}
    assert p["messages"][-1] == {"role": "assistant", "content": "<thinking>"}
    last_user = p["messages"][-2]["content"]
    assert [b["type"] for b in last_user] == ["tool_result", "text"]
    assert last_user[1]["text"] == HEARTBEAT and last_user[1]["cache_control"] == {
        "type": "ephemeral"
    }
    # the past thinking block (same model) is still replayed
    assert blocks(p, "assistant")[0]["type"] == "thinking"


def test_non_reasoning_model_with_reasoner_flag() -> None:
    p = build(history=sample_history(model=None), model="claude-3-5-haiku-20241022")
    assert "thinking" not in p and p["tool_choice"]["type"] == "any"
    assert p["messages"][-1]["content"] == "<thinking>"
    # Letta folds heartbeats into tool results whenever enable_reasoner is set
    assert [b["type"] for b in p["messages"][-2]["content"]] == ["tool_result"]


def test_opus_gets_no_prefill() -> None:
    p = build(model="claude-opus-4-1-20250805", enable_reasoner=False)
    assert p["messages"][-1]["role"] == "user"


def test_letta_v1_agent() -> None:
    p = build(agent_type=AgentType.letta_v1_agent, put_inner_thoughts_in_kwargs=True)
    assert p["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    for t in p["tools"]:
        assert REQUEST_HEARTBEAT_PARAM not in t["input_schema"]["properties"]
        assert "thinking" not in t["input_schema"]["properties"]  # no kwargs thoughts for v1
    tool_use = next(b for b in blocks(p, "assistant") if b["type"] == "tool_use")
    assert tool_use["input"] == {"city": "Paris"}
    assert all(HEARTBEAT not in json.dumps(m) for m in p["messages"])
    assert p["messages"][-1]["role"] == "user"


def test_heartbeat_offered_only_on_non_terminal_tools() -> None:
    p = build()
    assert REQUEST_HEARTBEAT_PARAM not in tool(p, "send_message")["input_schema"]["properties"]
    for name in ("core_memory_append", "get_weather"):
        schema = tool(p, name)["input_schema"]
        assert schema["properties"][REQUEST_HEARTBEAT_PARAM]["type"] == "boolean"
        assert schema["required"][-1] == REQUEST_HEARTBEAT_PARAM


def test_strict_on_supported_model() -> None:
    nested = Tool(
        id="tool-n",
        name="conversation_search",
        json_schema={
            "name": "conversation_search",
            "description": "Search.",
            "parameters": {
                "type": "object",
                "properties": {
                    "query": {"type": "string"},
                    "filter": {
                        "type": "object",
                        "properties": {"role": {"type": "string", "default": "user"}},
                        "additionalProperties": True,
                    },
                },
                "required": ["query"],
            },
        },
    )
    p = build(tools=[*TOOLS, nested], model="claude-sonnet-4-5-20250929", strict=True)
    for t in p["tools"]:
        assert t["input_schema"]["additionalProperties"] is False
        assert ("strict" in t) is (t["name"] == "conversation_search")
    inner = tool(p, "conversation_search")["input_schema"]["properties"]["filter"]
    assert inner["additionalProperties"] is False and "default" not in inner["properties"]["role"]


def test_strict_ignored_on_unsupported_model() -> None:
    p = build(strict=True)  # claude-sonnet-4: no structured outputs
    assert all(
        "additionalProperties" not in t["input_schema"] and "strict" not in t for t in p["tools"]
    )


def test_inner_thoughts_in_kwargs() -> None:
    history = sample_history()
    history[2] = history[2].model_copy(update={"content": [TextContent(text="Checking weather.")]})
    p = build(history=history, enable_reasoner=False, put_inner_thoughts_in_kwargs=True)
    for t in p["tools"]:
        schema = t["input_schema"]
        assert (
            next(iter(schema["properties"])) == "thinking" and schema["required"][0] == "thinking"
        )
    assistant = blocks(p, "assistant")
    assert [b["type"] for b in assistant] == ["tool_use"]
    assert list(assistant[0]["input"]) == ["thinking", "city", "request_heartbeat"]
    assert assistant[0]["input"]["thinking"] == "Checking weather."
    assert p["messages"][-1]["role"] == "user"  # no prefill with kwargs thoughts
    assert p["tool_choice"]["type"] == "any"


@pytest.mark.parametrize(
    ("model", "effort", "thinking", "output_config"),
    [
        ("claude-opus-4-6", "high", {"type": "adaptive"}, {"effort": "high"}),
        ("claude-sonnet-4-6", None, {"type": "adaptive"}, None),
        (
            "claude-opus-4-5-20251101",
            "low",
            {"type": "enabled", "budget_tokens": 2048},
            {"effort": "low"},
        ),
        ("claude-sonnet-4-20250514", "high", {"type": "enabled", "budget_tokens": 2048}, None),
        ("claude-3-7-sonnet-20250219", None, {"type": "enabled", "budget_tokens": 2048}, None),
        ("claude-haiku-4-5", None, {"type": "enabled", "budget_tokens": 2048}, None),
        ("anthropic/claude-sonnet-4-5", None, {"type": "enabled", "budget_tokens": 2048}, None),
    ],
)
def test_thinking_and_effort_per_model(
    model: str, effort: str | None, thinking: dict, output_config: dict | None
) -> None:
    p = build(history=sample_history(model=None), model=model, effort=effort)
    assert p["model"] == model.split("/")[-1]
    assert p["thinking"] == thinking and p["temperature"] == 1.0
    assert p.get("output_config") == output_config
    assert "context_management" not in p


def test_budget_floor_and_max_tokens_default() -> None:
    p = build(max_reasoning_tokens=0, max_tokens=None)
    assert p["thinking"]["budget_tokens"] == 1024 and p["max_tokens"] == 4096


def test_no_tools_omits_tools_and_tool_choice() -> None:
    p = build(tools=[])
    assert "tools" not in p and "tool_choice" not in p


def test_force_tool_call_false_uses_auto() -> None:
    agent = sample_agent(enable_reasoner=False)
    p = build_request_params(
        agent, sample_history(), TOOLS, terminal_tool_names=TERMINAL, step=0, force_tool_call=False
    )
    assert p["tool_choice"]["type"] == "auto" and p["metadata"] == {"user_id": f"{AGENT_ID}:0"}
