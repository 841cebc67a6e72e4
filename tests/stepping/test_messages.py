"""Message builders: deterministic ids and Letta's JSON content shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from letta_batch import ids
from letta_batch.schemas import (
    AgentStepState,
    ImageContent,
    MessageCreate,
    MessageRole,
    ReasoningContent,
    TextContent,
)
from letta_batch.stepping import (
    HeartbeatKind,
    assistant_message,
    decide,
    failure_message,
    heartbeat_message,
    input_messages,
    message_id,
    parse_result,
    refusal_tool_message,
    tool_message,
)
from letta_batch.stepping.heartbeat import json_dumps
from tests.stepping.factories import (
    ERRORED_ROW,
    SIGNATURE,
    call_outcome,
    text,
    text_outcome,
    thinking,
)

NOW = datetime(2025, 6, 1, 15, 4, 5, tzinfo=UTC)
AGENT, ITEM = "agent-1", "batch_item-1"


def test_input_messages_ids_and_fields() -> None:
    creates = [
        MessageCreate(content="Hi there", otid="otid-1", name="bob"),
        MessageCreate(
            role="system",
            content=[TextContent(text="a"), ImageContent(media_type="image/png", data="iVBO")],
        ),
    ]
    msgs = input_messages(AGENT, ITEM, 2, creates)
    assert [m.id for m in msgs] == [
        ids.derived_id("message", ITEM, "input:0"),
        ids.derived_id("message", ITEM, "input:1"),
    ]
    assert msgs == input_messages(AGENT, ITEM, 2, creates)  # deterministic
    first = msgs[0]
    assert (first.role, first.text(), first.otid, first.name) == (
        MessageRole.user,
        "Hi there",
        "otid-1",
        "bob",
    )
    assert (first.batch_item_id, first.step, first.agent_id) == (ITEM, 2, AGENT)
    assert msgs[1].role is MessageRole.system and len(msgs[1].content) == 2
    assert input_messages(AGENT, "batch_item-2", 2, creates)[0].id != first.id


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ("", r"messages\[1\]\.content"),
        ("  \n", r"messages\[1\]\.content"),
        ([], r"messages\[1\]\.content"),
        ([TextContent(text="")], r"messages\[1\]\.content\[0\]\.text"),
    ],
)
def test_input_messages_empty_content(content: object, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        input_messages(
            AGENT, ITEM, 0, [MessageCreate(content="ok"), MessageCreate(content=content)]
        )  # type: ignore[arg-type]


def test_assistant_message_shape() -> None:
    outcome = call_outcome(
        "get_weather",
        {"city": "Paris", "request_heartbeat": "true"},
        extra=[thinking(), text("Checking.")],
    )
    decision = decide(outcome, AgentStepState(), available_tools=["get_weather"], max_steps=5)
    msg = assistant_message(AGENT, ITEM, 0, outcome, decision)
    assert msg.id == message_id(ITEM, "assistant") == ids.derived_id("message", ITEM, "assistant")
    assert msg.role is MessageRole.assistant
    assert msg.content == [
        ReasoningContent(reasoning="The user wants the weather.", signature=SIGNATURE),
        TextContent(text="Checking."),
    ]
    assert msg.model == "claude-sonnet-4-5-20250929"
    assert msg.tool_call_id == "toolu_01D7FLrfh4GYq7yT1ULFeyMV"
    [call] = msg.tool_calls or []
    assert call.model_dump() == {
        "id": "toolu_01D7FLrfh4GYq7yT1ULFeyMV",
        "type": "function",
        "function": {
            "name": "get_weather",
            "arguments": '{"city": "Paris", "request_heartbeat": true}',
        },
    }
    assert (msg.batch_item_id, msg.step) == (ITEM, 0)


def test_assistant_message_keeps_inner_thoughts() -> None:
    outcome = call_outcome("x", {"thinking": "quietly", "a": 1}, kwargs_thoughts=True)
    decision = decide(outcome, AgentStepState(), available_tools=["x"], max_steps=5)
    msg = assistant_message(AGENT, ITEM, 0, outcome, decision, model="claude-x")
    assert msg.content == [TextContent(text="quietly")] and msg.model == "claude-x"
    assert json.loads(msg.tool_calls[0].function.arguments) == {"a": 1, "request_heartbeat": False}  # type: ignore[index]


def test_assistant_message_refuses_failed_decision() -> None:
    decision = decide(text_outcome(), AgentStepState(), available_tools=["x"], max_steps=5)
    with pytest.raises(ValueError, match="failure_message"):
        assistant_message(AGENT, ITEM, 0, text_outcome(), decision)


def test_tool_message_matches_letta_json() -> None:
    msg = tool_message(
        AGENT,
        ITEM,
        0,
        tool_call_id="toolu_1",
        tool_name="send_message",
        succeeded=True,
        func_return="Sent message successfully.",
        now=NOW,
        timezone="UTC",
        stdout=["out"],
        stderr=[],
    )
    expected = (
        '{\n  "status": "OK",\n  "message": "Sent message successfully.",\n'
        '  "time": "2025-06-01 03:04:05 PM UTC+0000"\n}'
    )
    assert msg.content == [TextContent(text=expected)]
    assert (msg.id, msg.role, msg.name, msg.tool_call_id) == (
        message_id(ITEM, "tool"),
        MessageRole.tool,
        "send_message",
        "toolu_1",
    )
    [ret] = msg.tool_returns or []
    assert ret.model_dump() == {
        "tool_call_id": "toolu_1",
        "status": "success",
        "stdout": ["out"],
        "stderr": [],
        "func_response": expected,
    }
    failed = tool_message(
        AGENT,
        ITEM,
        0,
        tool_call_id="t",
        tool_name="f",
        succeeded=False,
        func_return=None,
        now=NOW,
        timezone=None,
    )
    assert json.loads(failed.text()) == {
        "status": "Failed",
        "message": None,
        "time": "2025-06-01 03:04:05 PM UTC+0000",
    }
    assert failed.tool_returns[0].status == "error"  # type: ignore[index]


def test_refusal_tool_message() -> None:
    outcome = call_outcome("nope", {"request_heartbeat": True})
    decision = decide(outcome, AgentStepState(), available_tools=["x"], max_steps=5)
    msg = refusal_tool_message(AGENT, ITEM, 0, decision, NOW, "UTC")
    body = json.loads(msg.text())
    assert body["status"] == "Failed" and "not allowed" in body["message"]
    assert msg.tool_call_id == outcome.tool_calls[0].id
    with pytest.raises(ValueError):
        refusal_tool_message(
            AGENT,
            ITEM,
            0,
            decide(text_outcome(), AgentStepState(), available_tools=[], max_steps=5),
            NOW,
            "UTC",
        )


def test_failure_message_keeps_text() -> None:
    outcome = text_outcome("I think the answer is 42.")
    msg = failure_message(AGENT, ITEM, 3, outcome)
    assert msg is not None and msg.text() == "I think the answer is 42." and msg.tool_calls is None
    assert msg.id == message_id(ITEM, "assistant") and msg.step == 3
    assert (
        failure_message(AGENT, ITEM, 3, parse_result(ERRORED_ROW, inner_thoughts_in_kwargs=False))
        is None
    )


@pytest.mark.parametrize(
    ("kind", "uncalled", "reason"),
    [
        (
            HeartbeatKind.normal,
            (),
            "[This is an automated system message hidden from the user] Function called using request_heartbeat=true, returning control",
        ),
        (
            HeartbeatKind.failure,
            (),
            "[This is an automated system message hidden from the user] Function call failed, returning control",
        ),
        (
            HeartbeatKind.required_tools,
            ("a", "b"),
            "[This is an automated system message hidden from the user] Continuing, user expects these tools: [a, b] to be called still.",
        ),
    ],
)
def test_heartbeat_message(kind: HeartbeatKind, uncalled: tuple[str, ...], reason: str) -> None:
    msg = heartbeat_message(AGENT, ITEM, 1, kind, NOW, "UTC", uncalled)
    expected = json.dumps(
        {"type": "heartbeat", "reason": reason, "time": "2025-06-01 03:04:05 PM UTC+0000"}, indent=2
    )
    assert msg.content == [TextContent(text=expected)]
    assert (msg.id, msg.role, msg.batch_item_id, msg.step) == (
        message_id(ITEM, "heartbeat"),
        MessageRole.user,
        ITEM,
        1,
    )


def test_json_dumps_like_letta() -> None:
    assert (
        json_dumps({"m": "café\x00", "t": NOW})
        == '{\n  "m": "café",\n  "t": "2025-06-01T15:04:05+00:00"\n}'
    )


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(_JSON)
def test_json_dumps_matches_the_standard_library_byte_for_byte(value) -> None:
    """The orjson fast path must not change a single character the model sees."""
    expected = json.dumps(_strip(value), indent=2, ensure_ascii=False)
    assert json_dumps(value) == expected


def _strip(value):
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_strip(k): _strip(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value
