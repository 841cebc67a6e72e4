"""History → Anthropic turns: tool ids, heartbeats, reasoning replay, merging, bootup."""

from __future__ import annotations

import itertools
import json

import pytest

from letta_batch.providers.anthropic.turns import BOOTUP_MESSAGE
from letta_batch.schemas import (
    ImageContent,
    MessageRole,
    ReasoningContent,
    RedactedReasoningContent,
    TextContent,
    ToolCall,
    ToolCallFunction,
)
from tests.providers.anthropic.sample import (
    SIGNATURE,
    TOOL_CALL_ID,
    blocks,
    build,
    msg,
    sample_history,
)


def test_terminal_tool_call_in_history_loses_heartbeat_arg() -> None:
    history = [
        *sample_history()[:2],
        msg(
            3,
            MessageRole.assistant,
            tool_calls=[
                ToolCall(
                    id="toolu_x",
                    function=ToolCallFunction(
                        name="send_message",
                        arguments=json.dumps({"message": "hi", "request_heartbeat": False}),
                    ),
                )
            ],
        ),
        msg(4, MessageRole.tool, tool_call_id="toolu_x", content=[TextContent(text="ok")]),
    ]
    p = build(history=history)
    tool_use = next(b for b in blocks(p, "assistant") if b["type"] == "tool_use")
    assert tool_use["input"] == {"message": "hi"}
    assert blocks(p, "user")[-1] == {
        "type": "tool_result",
        "tool_use_id": "toolu_x",
        "content": "ok",
        "cache_control": {"type": "ephemeral"},
    }


def test_reasoning_replayed_only_for_the_same_model() -> None:
    other = build(history=sample_history(model="claude-3-7-sonnet-20250219"))
    assert [b["type"] for b in blocks(other, "assistant")] == ["tool_use"]
    alias = build(history=sample_history(model="claude-sonnet-4"), model="claude-sonnet-4-20250514")
    assert blocks(alias, "assistant")[0]["type"] == "thinking"
    unknown = build(history=sample_history(model=None))
    assert blocks(unknown, "assistant")[0] == {
        "type": "thinking",
        "thinking": "The user wants Paris weather.",
        "signature": SIGNATURE,
    }


def test_thinking_blocks_first_and_redacted() -> None:
    history = sample_history()
    history[2] = history[2].model_copy(
        update={
            "content": [
                TextContent(text="Let me check."),
                RedactedReasoningContent(data="ENCRYPTED"),
                ReasoningContent(reasoning="", signature="sig2"),
            ]
        }
    )
    p = build(history=history)
    assert [b["type"] for b in blocks(p, "assistant")] == [
        "redacted_thinking",
        "thinking",
        "text",
        "tool_use",
    ]


def test_first_message_must_be_system() -> None:
    with pytest.raises(RuntimeError, match="First message is not a system message"):
        build(history=sample_history()[1:])


def test_bootup_message_merges_and_empty_blocks() -> None:
    system = sample_history()[0]
    history = [
        system,
        msg(2, MessageRole.assistant, content=[TextContent(text="Hello!")]),
        msg(3, MessageRole.assistant, content=[TextContent(text="   ")]),
        msg(4, MessageRole.assistant, content=[TextContent(text="Anyone there?")]),
        msg(5, MessageRole.system, content=[TextContent(text="Memory updated.")]),
        msg(
            6,
            MessageRole.user,
            content=[TextContent(text="look"), ImageContent(media_type="image/png", data="iVBOR")],
        ),
    ]
    p = build(history=history, tools=[])
    assert p["messages"][0] == {"role": "user", "content": BOOTUP_MESSAGE}
    assert p["messages"][1] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "Hello!"}, {"type": "text", "text": "Anyone there?"}],
    }
    user = p["messages"][2]["content"]
    assert user[0] == {"type": "text", "text": "<event>SYSTEM ALERT: Memory updated.</event>"}
    assert user[2]["type"] == "image" and user[2]["source"]["media_type"] == "image/png"
    assert user[2]["cache_control"] == {"type": "ephemeral"}
    roles = [m["role"] for m in p["messages"]]
    assert all(a != b for a, b in itertools.pairwise(roles))


def test_duplicate_tool_results_are_merged() -> None:
    history = [
        *sample_history()[:4],
        msg(9, MessageRole.tool, tool_call_id=TOOL_CALL_ID, content=[TextContent(text="again")]),
    ]
    p = build(history=history, enable_reasoner=False)
    results = [b for b in blocks(p, "user") if b["type"] == "tool_result"]
    assert len(results) == 1 and results[0]["content"].endswith("\nagain")
