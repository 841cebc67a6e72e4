"""AnthropicBatchProvider against the Message Batches emulator (real HTTP, real SDK)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from letta_batch.providers.anthropic import AnthropicBatchProvider, build_request_params
from letta_batch.providers.base import BatchInfo, BatchProvider
from letta_batch.providers.emulator import EmulatorServer
from letta_batch.providers.errors import ProviderError
from tests.providers.anthropic.sample import TOOLS, sample_agent, sample_history, terminal_names


def sample_params_bytes() -> bytes:
    agent = sample_agent()
    params = build_request_params(
        agent, sample_history(), TOOLS, terminal_tool_names=terminal_names(agent), step=1
    )
    return json.dumps(params, separators=(",", ":")).encode()


def small(text: str = "hi") -> dict:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": text}],
    }


async def agen(n: int, params: bytes, prefix: str = "item") -> AsyncIterator[tuple[str, bytes]]:
    for i in range(n):
        yield f"{prefix}-{i:05d}", params
        if i % 250 == 0:
            await asyncio.sleep(0)


async def wait_ended(provider: AnthropicBatchProvider, batch_id: str) -> BatchInfo:
    for _ in range(100):
        info = await provider.retrieve_batch(batch_id)
        if info.ended:
            return info
        await asyncio.sleep(0.05)
    raise AssertionError("batch never ended")


async def test_is_a_batch_provider(provider: AnthropicBatchProvider) -> None:
    assert isinstance(provider, BatchProvider) and provider.name == "anthropic"


async def test_create_1000_from_async_generator_and_stream_results(
    provider: AnthropicBatchProvider,
) -> None:
    params = sample_params_bytes()
    created = await provider.create_batch(agen(1000, params))
    assert created.processing_status == "in_progress"
    assert created.request_counts.processing == 1000 and created.total_requests == 1000
    assert created.raw["id"] == created.id and not created.results_available
    assert created.expires_at is not None and created.expires_at - created.created_at == timedelta(
        hours=24
    )

    ended = await wait_ended(provider, created.id)
    assert ended.results_available and ended.ended_at is not None
    assert ended.request_counts.succeeded == 1000

    seen: dict[str, dict] = {}
    async for row in provider.results(created.id):
        seen[row["custom_id"]] = row
    assert set(seen) == {f"item-{i:05d}" for i in range(1000)}
    row = next(iter(seen.values()))
    assert row["result"]["type"] == "succeeded"
    message = row["result"]["message"]
    assert message["role"] == "assistant" and message["content"]


async def test_create_from_plain_iterable_of_dicts(provider: AnthropicBatchProvider) -> None:
    info = await provider.create_batch([("a", small("x")), ("b", small("y"))])
    await wait_ended(provider, info.id)
    ids = [row["custom_id"] async for row in provider.results(info.id)]
    assert sorted(ids) == ["a", "b"]


async def test_results_before_end_is_retryable(slow_provider: AnthropicBatchProvider) -> None:
    info = await slow_provider.create_batch([("only", small())])
    with pytest.raises(ProviderError) as exc:
        async for _ in slow_provider.results(info.id):
            pass
    assert exc.value.retryable and exc.value.error_type == "results_not_ready"


async def test_cancel(slow_provider: AnthropicBatchProvider, slow_emu: EmulatorServer) -> None:
    info = await slow_provider.create_batch([(f"c-{i}", small()) for i in range(5)])
    canceling = await slow_provider.cancel_batch(info.id)
    assert canceling.processing_status == "canceling"
    assert canceling.cancel_initiated_at is not None
    ended = await wait_ended(slow_provider, info.id)
    assert ended.request_counts.canceled == 5
    types = {row["result"]["type"] async for row in slow_provider.results(info.id)}
    assert types == {"canceled"}
    with pytest.raises(ProviderError) as exc:  # already ended: 400
        await slow_provider.cancel_batch(info.id)
    assert exc.value.status_code == 400 and not exc.value.retryable


async def test_list_batches_created_after(slow_provider: AnthropicBatchProvider) -> None:
    first = await slow_provider.create_batch([("l-0", small())])
    await asyncio.sleep(0.01)
    later = []
    for i in range(105):  # more than one page of 100
        later.append(await slow_provider.create_batch([(f"l-{i}", small())]))
    found = await slow_provider.list_batches(later[0].created_at)
    ids = [b.id for b in found]
    assert first.id not in ids
    assert ids[:105] == [b.id for b in reversed(later)]  # newest first
    naive = later[-1].created_at.replace(tzinfo=None)  # naive datetimes are taken as UTC
    assert [b.id for b in await slow_provider.list_batches(naive)] == [later[-1].id]


async def test_lost_create_response_is_retryable_and_reconcilable(
    provider: AnthropicBatchProvider, emu: EmulatorServer
) -> None:
    before = datetime.now().astimezone() - timedelta(seconds=5)
    emu.set_faults("create:lost")
    with pytest.raises(ProviderError) as exc:
        await provider.create_batch([("lost-1", small())])
    assert exc.value.retryable and exc.value.status_code == 500
    found = await provider.list_batches(before)
    assert any(b.total_requests == 1 for b in found)  # the batch exists: reconcile, not re-create


async def test_rate_limit_fault(provider: AnthropicBatchProvider, emu: EmulatorServer) -> None:
    emu.set_faults("create:429:retry-after=7")
    n_before = len(emu.batches(requests=False))
    with pytest.raises(ProviderError) as exc:
        await provider.create_batch([("rl-1", small())])
    err = exc.value
    assert (err.retryable, err.retry_after, err.status_code, err.error_type) == (
        True,
        7.0,
        429,
        "rate_limit_error",
    )
    assert err.request_id
    assert len(emu.batches(requests=False)) == n_before
    info = await provider.create_batch([("rl-1", small())])  # the fault fired once
    assert info.id


async def test_server_error_and_not_found(
    provider: AnthropicBatchProvider, emu: EmulatorServer
) -> None:
    info = await provider.create_batch([("e-1", small())])
    emu.set_faults("retrieve:500:retry-after-ms=250")
    with pytest.raises(ProviderError) as exc:
        await provider.retrieve_batch(info.id)
    assert exc.value.retryable and exc.value.retry_after == pytest.approx(0.25)
    with pytest.raises(ProviderError) as exc:
        await provider.retrieve_batch("msgbatch_doesnotexist000000000")
    assert (exc.value.status_code, exc.value.retryable, exc.value.error_type) == (
        404,
        False,
        "not_found_error",
    )


async def test_cut_results_stream_is_retryable(
    provider: AnthropicBatchProvider, emu: EmulatorServer
) -> None:
    info = await provider.create_batch([(f"cut-{i}", small()) for i in range(20)])
    await wait_ended(provider, info.id)
    emu.set_faults("results:cut:after=5")
    got: list[str] = []
    with pytest.raises(ProviderError) as exc:
        async for row in provider.results(info.id):
            got.append(row["custom_id"])
    assert exc.value.retryable and len(got) == 5
    again = [row["custom_id"] async for row in provider.results(info.id)]  # reading again works
    assert len(again) == 20


async def test_client_side_limits_fail_before_sending(emu: EmulatorServer) -> None:
    n_before = len(emu.batches(requests=False))
    async with AnthropicBatchProvider("k", emu.base_url, max_requests=10, max_body_bytes=4000) as p:
        cases = {
            "invalid_request_error": [(f"m-{i}", small()) for i in range(11)],
            "request_too_large": [(f"b-{i}", small("x" * 500)) for i in range(9)],
        }
        for error_type, reqs in cases.items():
            with pytest.raises(ProviderError) as exc:
                await p.create_batch(reqs)
            assert exc.value.error_type == error_type and not exc.value.retryable
        for bad in (
            [("dup", small()), ("dup", small())],
            [("bad id!", small())],
            [],
            [("x", b"[1,2]")],
        ):
            with pytest.raises(ProviderError):
                await p.create_batch(bad)
    assert len(emu.batches(requests=False)) == n_before


async def test_wrong_key_is_not_retryable_and_not_leaked() -> None:
    key = "sk-ant-api03-wrong-key-abcdefghijklmnop"
    with EmulatorServer(api_keys=("sk-ant-api03-right-key-000000000000",)) as emu:
        async with AnthropicBatchProvider(key, emu.base_url) as p:
            with pytest.raises(ProviderError) as exc:
                await p.retrieve_batch("msgbatch_x")
    assert exc.value.status_code == 401 and not exc.value.retryable
    assert key not in str(exc.value) and key not in repr(exc.value)
    assert exc.value.__cause__ is None and exc.value.__suppress_context__


def test_requires_key_or_base_url() -> None:
    from letta_batch.config import Settings

    with pytest.raises(ValueError, match="ANTHROPIC_API_KEY"):
        AnthropicBatchProvider(settings=Settings())
