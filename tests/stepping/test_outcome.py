"""parse_result on realistic Anthropic batch result rows."""

from __future__ import annotations

import json

import pytest

from letta_batch.schemas import ReasoningContent, RedactedReasoningContent
from letta_batch.stepping import Usage, parse_result
from letta_batch.stepping.outcome import MALFORMED_RESULT
from tests.stepping.factories import (
    CANCELED_ROW,
    ERRORED_ROW,
    EXPIRED_ROW,
    SIGNATURE,
    succeeded_row,
    text,
    thinking,
    tool_use,
)


def test_thinking_text_and_tool_use() -> None:
    row = succeeded_row(
        [thinking(), text("Let me check."), tool_use("get_weather", {"city": "Paris"})]
    )
    out = parse_result(row, inner_thoughts_in_kwargs=False)
    assert out.succeeded and out.result_type == "succeeded"
    assert out.custom_id == "batch_item-1"
    assert out.message_id == "msg_013Zva2CMHLNnXjNJJKqJ2EF"
    assert out.model == "claude-sonnet-4-5-20250929"
    assert out.stop_reason == "tool_use"
    assert out.text == "Let me check."
    assert out.reasoning == [
        ReasoningContent(reasoning="The user wants the weather.", signature=SIGNATURE)
    ]
    call = out.tool_call
    assert call is not None
    assert (call.id, call.name, call.input) == (
        "toolu_01D7FLrfh4GYq7yT1ULFeyMV",
        "get_weather",
        {"city": "Paris"},
    )
    assert json.loads(call.arguments_json) == {"city": "Paris"}
    assert call.parse_error is None
    assert out.usage == Usage(
        input_tokens=412,
        output_tokens=57,
        cache_creation_input_tokens=100,
        cache_read_input_tokens=2000,
    )
    assert out.usage.total_input_tokens == 2512
    assert out.error_type is None and out.inner_thoughts is None


def test_redacted_thinking_kept_in_order() -> None:
    row = succeeded_row(
        [thinking("a"), {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va"}, tool_use("x", {})]
    )
    out = parse_result(row, inner_thoughts_in_kwargs=False)
    assert out.reasoning == [
        ReasoningContent(reasoning="a", signature=SIGNATURE),
        RedactedReasoningContent(data="EmwKAhgBEgy3va"),
    ]
    assert out.text is None


def test_errored_envelope_reads_inner_error() -> None:
    out = parse_result(ERRORED_ROW, inner_thoughts_in_kwargs=False)
    assert out.result_type == "errored" and not out.succeeded
    assert out.error_type == "not_found_error"
    assert out.error_message == "model: claude-does-not-exist-9"
    assert out.tool_calls == [] and out.usage is None


@pytest.mark.parametrize(("row", "kind"), [(CANCELED_ROW, "canceled"), (EXPIRED_ROW, "expired")])
def test_canceled_and_expired_have_only_a_type(row: dict, kind: str) -> None:
    out = parse_result(row, inner_thoughts_in_kwargs=False)
    assert out.result_type == kind
    assert out.custom_id == row["custom_id"]
    assert (out.error_type, out.error_message, out.usage, out.stop_reason) == (None,) * 4


def test_inner_thoughts_in_kwargs_moves_thinking_arg() -> None:
    row = succeeded_row([tool_use("send_message", {"thinking": "be brief", "message": "hi"})])
    out = parse_result(row, inner_thoughts_in_kwargs=True)
    assert out.inner_thoughts == "be brief"
    assert out.tool_calls[0].input == {"message": "hi"}
    assert json.loads(out.tool_calls[0].arguments_json) == {"message": "hi"}
    # Without the flag the argument stays (decide pops it, as Letta).
    plain = parse_result(row, inner_thoughts_in_kwargs=False)
    assert plain.inner_thoughts is None
    assert plain.tool_calls[0].input == {"thinking": "be brief", "message": "hi"}


def test_input_encoded_as_json_string_is_decoded() -> None:
    out = parse_result(succeeded_row([tool_use("x", '{"a": 1}')]), inner_thoughts_in_kwargs=False)
    assert out.tool_calls[0].input == {"a": 1}


@pytest.mark.parametrize("raw", ['{"a": 1', "[1, 2]", 7, None])
def test_malformed_arguments_are_recorded(raw: object) -> None:
    out = parse_result(succeeded_row([tool_use("x", raw)]), inner_thoughts_in_kwargs=False)
    call = out.tool_calls[0]
    assert call.input is None and call.parse_error
    assert out.succeeded  # the row is fine; decide fails the agent


def test_thinking_tags_stripped_and_texts_joined() -> None:
    row = succeeded_row([text("<thinking>plan</thinking>"), text(" done")], "end_turn")
    assert parse_result(row, inner_thoughts_in_kwargs=False).text == "plan done"


def test_unknown_blocks_ignored() -> None:
    row = succeeded_row([{"type": "server_tool_use", "id": "srvtoolu_1"}, text("ok")], "end_turn")
    out = parse_result(row, inner_thoughts_in_kwargs=False)
    assert out.text == "ok" and out.tool_calls == []


@pytest.mark.parametrize(
    "row",
    [
        {"custom_id": "x"},
        {"custom_id": "x", "result": {"type": "succeeded"}},
        {"custom_id": "x", "result": {"type": "exploded"}},
        "not a row",
    ],
)
def test_malformed_rows_become_errored(row: object) -> None:
    out = parse_result(row, inner_thoughts_in_kwargs=False)  # type: ignore[arg-type]
    assert out.result_type == "errored"
    assert out.error_type == MALFORMED_RESULT and out.error_message


def test_errored_without_details() -> None:
    out = parse_result(
        {"custom_id": "x", "result": {"type": "errored"}}, inner_thoughts_in_kwargs=False
    )
    assert out.result_type == "errored" and out.error_message
