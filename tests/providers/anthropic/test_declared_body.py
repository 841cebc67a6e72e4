"""Declared bodies: the requests are encoded while they are sent, held to their declaration.

A body that differs from its declaration, or a bad request met on the way, must stop the
stream before its last byte: the provider then never receives a complete body and creates
no batch (checked against the emulator, a real HTTP server).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
import pytest

from letta_batch.providers.anthropic import AnthropicBatchProvider
from letta_batch.providers.anthropic.batch_body import (
    LIMITS,
    build_body,
    check_declared,
    stream_body,
)
from letta_batch.providers.base import DeclaredBody
from letta_batch.providers.emulator import EmulatorServer
from letta_batch.providers.errors import ProviderError


def params(i: int) -> bytes:
    return orjson.dumps(
        {
            "model": "claude-sonnet-4-5",
            "max_tokens": 8,
            "messages": [{"role": "user", "content": f"q{i}"}],
        }
    )


def requests(n: int, prefix: str = "d") -> list[tuple[str, bytes]]:
    return [(f"{prefix}-{i:04d}", params(i)) for i in range(n)]


def declared_for(reqs: list[tuple[str, bytes]]) -> DeclaredBody:
    """What ``send`` counts in the database: the limits' overheads plus ids and bodies."""
    return DeclaredBody(
        count=len(reqs),
        size=LIMITS.body_overhead
        + sum(LIMITS.request_bytes(custom_id, len(body)) for custom_id, body in reqs),
    )


async def collect(stream: AsyncIterator[bytes]) -> list[bytes]:
    return [chunk async for chunk in stream]


@pytest.mark.parametrize("n", [1, 7, 300])
@pytest.mark.parametrize("write_size", [1, 64, 1 << 20])
async def test_streamed_body_is_byte_identical_to_the_built_one(n: int, write_size: int) -> None:
    reqs = requests(n)
    built = await build_body(reqs)
    declared = declared_for(reqs)
    assert declared == DeclaredBody(count=built.count, size=built.size)

    async def source() -> AsyncIterator[tuple[str, bytes]]:
        for r in reqs:
            yield r

    writes = await collect(stream_body(source(), declared, write_size=write_size))
    assert b"".join(writes) == built.to_bytes()
    if write_size == 1 << 20:
        assert len(writes) == 1  # small bodies go out in one write


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda d: DeclaredBody(d.count + 1, d.size), "one request more declared than read"),
        (lambda d: DeclaredBody(d.count - 1, d.size), "one request less declared than read"),
        (lambda d: DeclaredBody(d.count, d.size + 1), "a byte more declared than read"),
        (lambda d: DeclaredBody(d.count, d.size - 1), "a byte less declared than read"),
    ],
)
async def test_a_body_unlike_its_declaration_never_completes(change, why: str) -> None:  # type: ignore[no-untyped-def]
    reqs = requests(50)
    declared = change(declared_for(reqs))
    got: list[bytes] = []
    with pytest.raises(ProviderError) as exc:
        async for chunk in stream_body(reqs, declared, write_size=100):
            got.append(chunk)
    assert exc.value.retryable and exc.value.error_type == "body_mismatch", why
    sent = b"".join(got)
    assert len(sent) < declared.size and not sent.endswith(b"]}"), why


@pytest.mark.parametrize(
    "bad",
    [
        ("bad id!", params(0)),
        ("d-0000", params(1)),  # duplicate of the first request
        ("d-9999", b" " + params(2)),  # stored params are spliced as they are: no padding
        ("d-9998", {"model": "claude-sonnet-4-5"}),  # a declared body takes stored bytes
    ],
)
async def test_a_bad_request_stops_the_stream_and_is_not_retryable(bad: tuple) -> None:  # type: ignore[type-arg]
    reqs = [*requests(3), bad]
    declared = DeclaredBody(count=4, size=10**6)
    with pytest.raises(ProviderError) as exc:
        await collect(stream_body(reqs, declared))
    assert not exc.value.retryable


def test_declarations_beyond_the_limits_are_refused() -> None:
    check_declared(DeclaredBody(10, 4000), max_requests=10, max_bytes=4000)
    for declared, error_type in [
        (DeclaredBody(0, 15), "invalid_request_error"),
        (DeclaredBody(11, 100), "invalid_request_error"),
        (DeclaredBody(5, 4001), "request_too_large"),
    ]:
        with pytest.raises(ProviderError) as exc:
            check_declared(declared, max_requests=10, max_bytes=4000)
        assert exc.value.error_type == error_type and not exc.value.retryable


async def test_declared_create_against_the_emulator(
    provider: AnthropicBatchProvider, emu: EmulatorServer
) -> None:
    reqs = requests(120, prefix="ok")
    info = await provider.create_batch(iter(reqs), declared_for(reqs))
    assert info.request_counts.processing == 120
    stored = emu.batches(requests=True)
    mine = next(b for b in stored if b["id"] == info.id)
    assert mine["custom_ids"] == [c for c, _ in reqs]


async def test_failed_declared_creates_leave_no_batch_at_the_emulator(
    emu: EmulatorServer,
) -> None:
    before = len(emu.batches(requests=False))
    async with AnthropicBatchProvider("k", emu.base_url, max_requests=100) as provider:
        reqs = requests(80, prefix="no")
        # Large enough that the body goes out in several writes before the mismatch shows.
        padded = [(c, b'{"pad":"' + b"x" * 40_000 + b'",' + body[1:]) for c, body in reqs]
        wrong = DeclaredBody(count=81, size=declared_for(padded).size + 10)
        with pytest.raises(ProviderError) as exc:
            await provider.create_batch(iter(padded), wrong)
        assert exc.value.retryable and exc.value.error_type == "body_mismatch"
        with pytest.raises(ProviderError) as exc:
            await provider.create_batch(
                iter([*reqs[:5], ("bad id!", params(0))]), DeclaredBody(6, 10**5)
            )
        assert not exc.value.retryable
        with pytest.raises(ProviderError) as exc:
            await provider.create_batch(iter(requests(101)), declared_for(requests(101)))
        assert not exc.value.retryable  # refused before anything was sent
    assert len(emu.batches(requests=False)) == before


class SourceDown(Exception):
    """Stands for the database failing under ``send``'s stream of stored requests."""


async def test_a_failing_request_source_is_raised_as_it_is_not_as_a_provider_error(
    emu: EmulatorServer,
) -> None:
    """The SDK wraps whatever the body stream raises in a connection error; a failure of the
    requests' own source (our database) must reach the caller unchanged, so the activity
    reports a database error, and no batch may be created."""
    before = len(emu.batches(requests=False))
    reqs = requests(40, prefix="src")
    padded = [(c, b'{"pad":"' + b"x" * 40_000 + b'",' + body[1:]) for c, body in reqs]
    down = SourceDown("connection was closed in the middle of operation")

    async def source() -> AsyncIterator[tuple[str, bytes]]:
        for i, item in enumerate(padded):
            if i == 30:  # several writes have gone out by now
                raise down
            yield item

    async with AnthropicBatchProvider("k", emu.base_url, max_requests=100) as provider:
        with pytest.raises(SourceDown) as exc:
            await provider.create_batch(source(), declared_for(padded))
    assert exc.value is down
    assert len(emu.batches(requests=False)) == before
