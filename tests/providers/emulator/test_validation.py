"""Synchronous envelope validation (400/413/401) and deferred per-request `errored` rows."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import pytest

from letta_batch.providers.emulator import EmulatorServer

from .helpers import MODEL, params, requests_for, sync_client

PATTERN = "^[a-zA-Z0-9_-]{1,64}$"


@pytest.mark.parametrize(
    ("requests", "message"),
    [
        ([], "requests: List should have at least 1 item after validation, not 0"),
        ([{"params": params()}], "requests.0.custom_id: Field required"),
        (
            [{"custom_id": "ok", "params": params()}, {"custom_id": "x" * 65, "params": params()}],
            "requests.1.custom_id: String should have at most 64 characters",
        ),
        (
            [{"custom_id": "bad id!", "params": params()}],
            f"requests.0.custom_id: String should match pattern '{PATTERN}'",
        ),
        (
            [{"custom_id": "dup", "params": params()}, {"custom_id": "dup", "params": params()}],
            "requests: custom_id's must be unique within a batch. Duplicate custom_id found: dup",
        ),
        ([{"custom_id": "a"}], "requests.0.params: Field required"),
        (
            [{"custom_id": "a", "params": [1]}],
            "requests.0.params: Input should be a valid dictionary",
        ),
        (
            [{"custom_id": "a", "params": params(), "x": 1}],
            "requests.0.x: Extra inputs are not permitted",
        ),
    ],
)
def test_envelope_errors(client: anthropic.Anthropic, requests: Any, message: str) -> None:
    with pytest.raises(anthropic.BadRequestError) as exc:
        client.messages.batches.create(requests=requests)
    assert exc.value.status_code == 400
    assert exc.value.body == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": message},
        "request_id": exc.value.request_id,
    }


def test_extra_top_level_key(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError, match="foo: Extra inputs are not permitted"):
        client.messages.batches.create(requests=requests_for(1), extra_body={"foo": 1})


def test_64_char_custom_id_is_fine(client: anthropic.Anthropic) -> None:
    batch = client.messages.batches.create(
        requests=[{"custom_id": "a-_" * 21 + "z", "params": params()}]
    )
    assert batch.request_counts.processing == 1


@pytest.mark.parametrize("body", [b"{not json", b"", b"[1, 2]"])
def test_malformed_bodies(emu: EmulatorServer, body: bytes) -> None:
    resp = httpx.post(
        f"{emu.base_url}/v1/messages/batches",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert resp.status_code == 400
    payload = resp.json()
    assert payload["type"] == "error" and payload["request_id"] == resp.headers["request-id"]
    if body != b"[1, 2]":
        assert payload["error"]["message"].startswith("The request body is not valid JSON: ")


def test_too_many_requests_configurable() -> None:
    with EmulatorServer(max_requests=5) as emu:
        with pytest.raises(anthropic.BadRequestError) as exc:
            sync_client(emu).messages.batches.create(requests=requests_for(6))
        assert exc.value.body["error"]["message"] == (  # type: ignore[index]
            "requests: List should have at most 5 items after validation, not 6"
        )


def test_body_limit_413() -> None:
    with EmulatorServer(max_body_bytes=2_000) as emu:
        client = sync_client(emu)
        client.messages.batches.create(requests=requests_for(2))
        with pytest.raises(anthropic.RequestTooLargeError) as exc:
            client.messages.batches.create(requests=requests_for(40))
        assert exc.value.status_code == 413
        assert exc.value.body["error"]["type"] == "request_too_large"  # type: ignore[index]
        assert len(emu.batches()) == 1


def test_authentication() -> None:
    with EmulatorServer(api_keys=("sk-good",)) as emu:
        with pytest.raises(anthropic.AuthenticationError) as exc:
            sync_client(emu, api_key="sk-bad").messages.batches.list()
        assert exc.value.body["error"] == {  # type: ignore[index]
            "type": "authentication_error",
            "message": "API key is invalid.",
        }
        assert len(sync_client(emu, api_key="sk-good").messages.batches.list().data) == 0
        url = f"{emu.base_url}/v1/messages/batches?beta=true"
        assert httpx.get(url, headers={"x-api-key": "sk-good"}).status_code == 200
        assert httpx.get(url).status_code == 401
        assert httpx.get(url, headers={"x-api-key": "nope"}).status_code == 401


DEFERRED: list[tuple[dict[str, Any], str, str]] = [
    ({"model": MODEL, "max_tokens": 10}, "invalid_request_error", "messages: Field required"),
    ({"max_tokens": 10, "messages": [{"role": "user", "content": "x"}]},
     "invalid_request_error", "model: Field required"),
    ({"model": MODEL, "messages": [{"role": "user", "content": "x"}]},
     "invalid_request_error", "max_tokens: Field required"),
    (params(max_tokens=0), "invalid_request_error", "max_tokens: must be greater than or equal to 1"),
    (params(stream=True), "invalid_request_error",
     '"stream=True" is not supported in the Message Batches API'),
    (params(model="claude-does-not-exist-9"), "not_found_error", "model: claude-does-not-exist-9"),
    (params(model="gpt-4o"), "not_found_error", "model: gpt-4o"),
    (params(max_tokens=1_000_000), "invalid_request_error",
     f"max_tokens: 1000000 > 128000, which is the maximum allowed number of output tokens for {MODEL}"),
    (params(tools=[{"name": "t", "input_schema": {"type": "object"}}],
            tool_choice={"type": "tool", "name": "other"}),
     "invalid_request_error", "tool_choice.name: Tool 'other' not found in provided tools"),
    (params(tool_choice={"type": "any"}), "invalid_request_error",
     "tool_choice may only be specified while providing tools."),
    (params(tools=[{"name": "t", "input_schema": {"type": "object"}, "bogus": 1}]),
     "invalid_request_error", "tools.0.custom.bogus: Extra inputs are not permitted"),
    (params(max_tokens=2000, thinking={"type": "enabled", "budget_tokens": 2000}),
     "invalid_request_error", "`max_tokens` must be greater than `thinking.budget_tokens`."),
    (params(max_tokens=4000, thinking={"type": "enabled", "budget_tokens": 1024},
            tools=[{"name": "t", "input_schema": {"type": "object"}}], tool_choice={"type": "any"}),
     "invalid_request_error", "Thinking may not be enabled when tool_choice forces tool use."),
]  # fmt: skip


def test_deferred_params_errors_become_errored_rows(client: anthropic.Anthropic) -> None:
    requests = [{"custom_id": f"bad-{i}", "params": p} for i, (p, _, _) in enumerate(DEFERRED)]
    requests.append({"custom_id": "good", "params": params()})
    batch = client.messages.batches.create(requests=requests)  # accepted: envelope is fine
    assert batch.request_counts.processing == len(requests)
    counts = client.messages.batches.retrieve(batch.id).request_counts
    assert counts.errored == len(DEFERRED) and counts.succeeded == 1
    rows = {r.custom_id: r.result for r in client.messages.batches.results(batch.id)}
    assert rows["good"].type == "succeeded"
    for i, (_, err_type, message) in enumerate(DEFERRED):
        result = rows[f"bad-{i}"]
        assert result.type == "errored"
        assert result.error.type == "error" and result.error.request_id is None
        assert (result.error.error.type, result.error.error.message) == (err_type, message)
