"""The emulator keeps each distinct ``tools`` array once per batch, and every request's
canonical params (its seed, so its result row) exactly as if they had been kept whole."""

from __future__ import annotations

import json
from typing import Any

import pytest

from letta_batch.providers.emulator.config import EmulatorConfig
from letta_batch.providers.emulator.errors import ApiError
from letta_batch.providers.emulator.model import request_seed
from letta_batch.providers.emulator.outcomes import SUCCEEDED, BatchContext, RowRenderer
from letta_batch.providers.emulator.stored_params import _SENTINEL, StoredParams
from letta_batch.providers.emulator.validation import decode_body

TOOL = {
    "name": "send_message",
    "description": "Sends a message — ünïcode",
    "input_schema": {
        "type": "object",
        "properties": {"message": {"type": "string"}, "request_heartbeat": {"type": "boolean"}},
        "required": ["message"],
    },
}


def whole(params: Any) -> bytes:
    """The canonical form as the emulator computed it when it kept params whole."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def request(**extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 512,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi\nthere"}]}],
        "tools": [TOOL],
        "tool_choice": {"type": "auto"},
        **extra,
    }


CASES = [
    request(),
    request(top_k=5, top_p=0.25, temperature=0.7),  # keys sorted after "tools"
    request(metadata={"user_id": "agent-1", "tools": None}),  # a nested "tools" key first
    request(tools=[TOOL, {**TOOL, "name": "other", "big": 2**70}]),  # json.dumps fallback
    request(tools=[]),
    request(tools="not a list"),
    {k: v for k, v in request().items() if k != "tools"},
    request(system=f"a system prompt that quotes {_SENTINEL}"),
    ["params", "that", "are", "not", "an", "object"],
    request(tools=[1, 2.0, True, None, "x"]),
]


def test_canonical_and_parsed_are_those_of_the_whole_params() -> None:
    stored = StoredParams()
    for params in CASES:
        stored.add(params)
    assert len(stored) == len(CASES)
    for i, params in enumerate(CASES):
        assert stored.canonical(i) == whole(params), i
        parsed = stored.parsed(i)
        assert parsed == json.loads(whole(params)), i
        assert json.dumps(parsed, sort_keys=True) == json.dumps(params, sort_keys=True), i


def test_equal_arrays_are_kept_once_and_unequal_json_never_shares() -> None:
    stored = StoredParams()
    same = [request(messages=[{"role": "user", "content": str(i)}]) for i in range(50)]
    # Equal under Python's ``==`` (1 == 1.0 == True) but different JSON: three arrays.
    lookalikes = [request(tools=[{**TOOL, "strict": v}]) for v in (1, 1.0, True)]
    for params in [*same, *lookalikes]:
        stored.add(params)
    assert stored.shared_arrays == 4
    for i, params in enumerate([*same, *lookalikes]):
        assert stored.canonical(i) == whole(params)
    assert [stored.parsed(50 + i)["tools"][0]["strict"] for i in range(3)] == [1, 1.0, True]
    assert [type(stored.parsed(50 + i)["tools"][0]["strict"]) for i in range(3)] == [
        int,
        float,
        bool,
    ]


def test_a_result_row_is_seeded_by_the_whole_canonical_params() -> None:
    stored = StoredParams()
    params = request()
    stored.add(params)
    renderer = RowRenderer("msgbatch_test", BatchContext(EmulatorConfig(), None, None))
    row = renderer.row("agent-1", stored, 0, SUCCEEDED)
    message = row["result"]["message"]
    assert message["usage"]["input_tokens"] == len(whole(params)) // 4
    again = StoredParams()
    again.add(json.loads(json.dumps(params)))
    assert renderer.line("agent-1", again, 0, SUCCEEDED) == renderer.line(
        "agent-1", stored, 0, SUCCEEDED
    )
    assert request_seed("agent-1", stored.canonical(0)) == request_seed("agent-1", whole(params))


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'{"requests": [{"custom_id": "a", "params": {"temperature": NaN}}]}', "NaN"),
        (b'{"requests": [{"custom_id": "a", "params": {"top_p": -Infinity}}]}', "-Infinity"),
        (b'{"requests": [{"custom_id": "a", "params": {"top_p": 1e400}}]}', "1e400"),
    ],
)
def test_numbers_json_has_no_spelling_for_are_refused(body: bytes, fragment: str) -> None:
    with pytest.raises(ApiError) as err:
        decode_body(body)
    assert err.value.status == 400
    assert "The request body is not valid JSON" in err.value.message
    assert fragment in err.value.message
