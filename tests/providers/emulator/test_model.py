"""The deterministic synthetic model: tool_choice handling, schema-valid inputs, thinking, usage."""

from __future__ import annotations

from typing import Any

import anthropic
from anthropic.types.messages import MessageBatchIndividualResponse

from .helpers import check_schema, params

HEARTBEAT_TOOL = {
    "name": "send_message",
    "description": "Send a message to the user",
    "input_schema": {
        "type": "object",
        "properties": {
            "message": {"type": "string"},
            "request_heartbeat": {"type": "boolean"},
        },
        "required": ["message", "request_heartbeat"],
    },
}
RICH_TOOL = {
    "name": "archival_insert",
    "input_schema": {
        "type": "object",
        "$defs": {"tag": {"type": "string", "enum": ["a", "b", "c"]}},
        "properties": {
            "content": {"type": "string", "minLength": 3, "maxLength": 40},
            "count": {"type": "integer", "minimum": 5, "maximum": 9},
            "score": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
            "flag": {"type": ["boolean", "null"]},
            "nothing": {"type": "null"},
            "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}, "minItems": 1, "maxItems": 3},
            "mode": {"enum": ["fast", "slow"]},
            "choice": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
            "nested": {
                "type": "object",
                "properties": {"inner": {"type": "object", "properties": {"x": {"type": "string"}},
                                         "required": ["x"]}},
                "required": ["inner"],
                "additionalProperties": False,
            },
        },
        "required": ["content", "count", "score", "flag", "nothing", "tags", "mode", "choice",
                     "nested"],
    },
}  # fmt: skip
TOOLS = [HEARTBEAT_TOOL, RICH_TOOL]
SCHEMAS = {t["name"]: t["input_schema"] for t in TOOLS}


def run(client: anthropic.Anthropic, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Create a batch of `items` (custom_id -> params) and return the succeeded messages."""
    batch = client.messages.batches.create(requests=items)
    client.messages.batches.retrieve(batch.id)
    out = {}
    for row in client.messages.batches.results(batch.id):
        MessageBatchIndividualResponse.model_validate(row.model_dump(mode="json"))
        assert row.result.type == "succeeded", row
        out[row.custom_id] = row.result.message
    return out


def many(n: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"custom_id": f"m-{i}", "params": params(f"question {i}", **extra)} for i in range(n)]


def tool_uses(message: Any) -> list[Any]:
    return [b for b in message.content if b.type == "tool_use"]


def test_same_request_same_content(client: anthropic.Anthropic) -> None:
    item = {"custom_id": "same", "params": params(tools=TOOLS)}
    first = run(client, [item])["same"]
    second = run(client, [item])["same"]
    assert first.model_dump()["content"] == second.model_dump()["content"]
    assert first.usage == second.usage and first.stop_reason == second.stop_reason
    assert first.id != second.id  # message ids stay unique per batch


def test_auto_mostly_calls_tools_with_valid_inputs(client: anthropic.Anthropic) -> None:
    messages = run(client, many(60, tools=TOOLS))
    with_tools = [m for m in messages.values() if tool_uses(m)]
    assert len(with_tools) >= 45  # ~90 %
    heartbeats = set()
    for message in messages.values():
        assert message.model == "claude-sonnet-4-5"
        uses = tool_uses(message)
        assert message.stop_reason == ("tool_use" if uses else "end_turn")
        assert 1 <= len(uses) <= 2 or not uses
        for block in uses:
            assert block.id.startswith("toolu_") and block.name in SCHEMAS
            check_schema(block.input, SCHEMAS[block.name])
            if block.name == "send_message":
                heartbeats.add(block.input["request_heartbeat"])
        usage = message.usage
        assert usage.service_tier == "batch" and usage.input_tokens > 10
        assert usage.output_tokens >= 1 and usage.cache_read_input_tokens == 0
    assert heartbeats == {True, False}


def test_tool_choice_any_and_tool(client: anthropic.Anthropic) -> None:
    forced = run(client, many(20, tools=TOOLS, tool_choice={"type": "any"}))
    for message in forced.values():
        assert tool_uses(message) and all(b.type == "tool_use" for b in message.content)
    named = run(
        client, many(20, tools=TOOLS, tool_choice={"type": "tool", "name": "archival_insert"})
    )
    for message in named.values():
        assert {b.name for b in tool_uses(message)} == {"archival_insert"}
        assert [b.type for b in message.content if b.type != "tool_use"] == []


def test_disable_parallel_tool_use(client: anthropic.Anthropic) -> None:
    for choice in ({"type": "any"}, {"type": "auto"}):
        messages = run(
            client,
            many(30, tools=TOOLS, tool_choice={**choice, "disable_parallel_tool_use": True}),
        )
        counts = {len(tool_uses(m)) for m in messages.values()}
        assert counts <= ({1} if choice["type"] == "any" else {0, 1})
    parallel = run(client, many(40, tools=TOOLS, tool_choice={"type": "any"}))
    assert 2 in {len(tool_uses(m)) for m in parallel.values()}


def test_tool_choice_none_and_no_tools(client: anthropic.Anthropic) -> None:
    items = many(10, tools=TOOLS, tool_choice={"type": "none"})
    items.append({"custom_id": "plain", "params": params("just chat")})
    messages = run(client, items)
    for message in messages.values():
        assert [b.type for b in message.content] == ["text"]
        assert message.stop_reason == "end_turn"
    assert "just chat" in messages["plain"].content[0].text


def test_thinking_block(client: anthropic.Anthropic) -> None:
    thinking = {"type": "enabled", "budget_tokens": 1024}
    messages = run(client, many(5, max_tokens=4096, thinking=thinking, tools=TOOLS))
    for message in messages.values():
        first = message.content[0]
        assert first.type == "thinking" and first.thinking and first.signature
        assert message.content[1:] and all(b.type != "thinking" for b in message.content[1:])
    omitted = run(client, many(1, max_tokens=4096, thinking={**thinking, "display": "omitted"}))
    assert omitted["m-0"].content[0].thinking == ""


def test_tiny_max_tokens_and_stop_sequences(client: anthropic.Anthropic) -> None:
    tiny = run(client, many(3, max_tokens=5))
    assert {m.stop_reason for m in tiny.values()} == {"max_tokens"}
    assert all(m.usage.output_tokens <= 5 for m in tiny.values())
    stopped = run(client, many(20, stop_sequences=["###"]))
    reasons = {(m.stop_reason, m.stop_sequence) for m in stopped.values()}
    assert reasons == {("stop_sequence", "###"), ("end_turn", None)}


def test_strict_beta_results(client: anthropic.Anthropic) -> None:
    batch = client.beta.messages.batches.create(requests=many(5, tools=TOOLS))
    client.beta.messages.batches.retrieve(batch.id)
    for row in client.beta.messages.batches.results(batch.id):
        assert row.result.type == "succeeded"
        for block in row.result.message.content:
            if block.type == "tool_use":
                check_schema(block.input, SCHEMAS[block.name])
