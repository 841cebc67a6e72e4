"""What create puts on the wire: one body, exact Content-Length, params bytes verbatim."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from letta_batch.providers.anthropic import AnthropicBatchProvider, batch_info, build_body
from letta_batch.providers.errors import ProviderError

BATCH = {
    "id": "msgbatch_013Zva2CMHLNnXjNJJKqJ2EF",
    "type": "message_batch",
    "processing_status": "in_progress",
    "request_counts": {"processing": 3, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0},
    "created_at": "2024-09-24T18:37:24.100435Z",
    "expires_at": "2024-09-25T18:37:24.100435Z",
    "ended_at": None,
    "cancel_initiated_at": None,
    "archived_at": None,
    "results_url": None,
}


@pytest.fixture
async def capture() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    async def create(request: web.Request) -> web.Response:
        seen.append({"headers": dict(request.headers), "body": await request.read()})
        return web.json_response(BATCH)

    app = web.Application()
    app.router.add_post("/v1/messages/batches", create)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}", seen
    await runner.cleanup()


async def test_body_is_streamed_with_exact_length(
    capture: tuple[str, list[dict[str, Any]]],
) -> None:
    url, seen = capture
    stored = b'{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":"\xc3\xa9"}]}'

    async def requests() -> AsyncIterator[tuple[str, bytes | dict]]:
        yield "a-1", stored
        yield "a-2", b"  " + stored + b"\n"
        yield "a_3", {"model": "claude-haiku-4-5", "max_tokens": 5, "messages": []}

    async with AnthropicBatchProvider("sk-ant-wire-test-key-123456", url) as provider:
        info = await provider.create_batch(requests())
    assert info.id == BATCH["id"] and info.request_counts.processing == 3
    assert info.raw["created_at"].startswith("2024-09-24T18:37:24.100435")

    (req,) = seen
    headers = {k.lower(): v for k, v in req["headers"].items()}
    body: bytes = req["body"]
    assert int(headers["content-length"]) == len(body)
    assert "transfer-encoding" not in headers
    assert headers["content-type"] == "application/json"
    assert headers["authorization"] == "Bearer sk-ant-wire-test-key-123456"
    assert headers["x-stainless-retry-count"] == "0"
    assert body.count(stored) == 2  # stored params are spliced in untouched
    decoded = json.loads(body)
    assert [r["custom_id"] for r in decoded["requests"]] == ["a-1", "a-2", "a_3"]
    assert decoded["requests"][2]["params"]["model"] == "claude-haiku-4-5"


async def test_build_body_matches_to_bytes() -> None:
    body = await build_body([("x", {"a": 1}), ("y", b'{"b":2}')])
    streamed = b"".join([c async for c in body.stream()])
    assert streamed == body.to_bytes() and len(streamed) == body.size and body.count == 2
    assert json.loads(streamed) == {
        "requests": [{"custom_id": "x", "params": {"a": 1}}, {"custom_id": "y", "params": {"b": 2}}]
    }


def test_malformed_batch_object_is_a_provider_error() -> None:
    with pytest.raises(ProviderError) as exc:
        batch_info({**BATCH, "processing_status": "exploded"})
    assert exc.value.error_type == "invalid_response" and not exc.value.retryable
    info = batch_info({**BATCH, "processing_status": "ended", "results_url": "/r"})
    assert info.results_available and info.ended
