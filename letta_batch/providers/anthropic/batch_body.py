"""Assemble a Message Batches create body as bytes, request by request.

A 100,000-request batch must not become 100,000 dict trees in the worker: params arrive
as the JSON bytes stored in the database and are copied into the body untouched. Two ways:

- `build_body` keeps the body as a list of byte chunks (one per request), so that it is
  checked against the provider's limits *before* anything is sent, then streamed with an
  exact Content-Length. It holds the whole body (up to 256 MB).
- `stream_body` encodes requests while they are sent, for a body whose request count and
  exact size are declared up front (`DeclaredBody`, counted in the database): the limits are
  checked on the declaration before anything is sent, and only one write is held. A body
  that turns out to differ from its declaration, or a bad request met on the way, stops the
  stream before its last byte, so the provider never receives a complete body.
"""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

from letta_batch import json_codec
from letta_batch.providers.base import BatchLimits, BatchRequest, BatchRequests, DeclaredBody
from letta_batch.providers.errors import ProviderError

#: Anthropic's per-batch limits (spec §3).
MAX_BATCH_REQUESTS = 100_000
MAX_BATCH_BYTES = 256 * 1024 * 1024
#: Target size of one socket write while streaming the body.
WRITE_SIZE = 1 << 20
CUSTOM_ID_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

_OPEN = b'{"requests":['
_CLOSE = b"]}"
_REQUEST_OPEN = b',{"custom_id":"'
_REQUEST_PARAMS = b'","params":'
_REQUEST_CLOSE = b"}"

#: Anthropic's limits with the exact size of the body `build_body` writes.
LIMITS = BatchLimits(
    max_requests=MAX_BATCH_REQUESTS,
    max_bytes=MAX_BATCH_BYTES,
    body_overhead=len(_OPEN) + len(_CLOSE) - 1,  # the first request has no separator
    request_overhead=len(_REQUEST_OPEN) + len(_REQUEST_PARAMS) + len(_REQUEST_CLOSE),
)


@dataclass
class BatchBody:
    """The encoded body of one create call."""

    chunks: list[bytes] = field(default_factory=list)
    size: int = len(_OPEN) + len(_CLOSE)
    """Exact byte length of the whole body."""
    count: int = 0
    """Number of requests."""

    async def stream(self, write_size: int = WRITE_SIZE) -> AsyncIterator[bytes]:
        """The body in writes of about `write_size` bytes (what httpx sends).

        Coalescing per-request chunks into larger writes keeps the number of socket writes
        (and event-loop turns) low; only one write's worth is copied at a time.
        """
        group: list[bytes] = [_OPEN]
        size = len(_OPEN)
        for chunk in self.chunks:
            group.append(chunk)
            size += len(chunk)
            if size >= write_size:
                yield b"".join(group)
                group, size = [], 0
        group.append(_CLOSE)
        yield b"".join(group)

    def to_bytes(self) -> bytes:
        return _OPEN + b"".join(self.chunks) + _CLOSE


def _invalid(message: str, error_type: str = "invalid_request_error") -> ProviderError:
    return ProviderError(message, retryable=False, error_type=error_type)


def _params_bytes(custom_id: str, params: bytes | dict[str, Any]) -> bytes:
    if isinstance(params, dict):
        return json_codec.dumps_bytes(params)
    if isinstance(params, bytes | bytearray | memoryview):
        data = bytes(params).strip()
        # A cheap shape check: the bytes are spliced in verbatim, so anything but a JSON
        # object would corrupt the whole body and fail every request with one 400.
        if not (data.startswith(b"{") and data.endswith(b"}")):
            raise _invalid(f"requests[{custom_id}].params: stored params are not a JSON object")
        return data
    raise _invalid(f"requests[{custom_id}].params: expected bytes or dict, got {type(params)}")


class _Encoder:
    """Validates and encodes requests one by one, counting the body they make."""

    def __init__(self, max_requests: int, max_bytes: int, *, verbatim: bool = False) -> None:
        self.max_requests = max_requests
        self.max_bytes = max_bytes
        self.verbatim = verbatim
        """Params must be stored bytes, spliced as they are (a declared size counted them)."""
        self.seen: set[str] = set()
        self.count = 0
        self.size = len(_OPEN) + len(_CLOSE)

    def encode(self, item: BatchRequest) -> bytes:
        """The request's chunk of the body; raises a non-retryable `ProviderError` if bad."""
        custom_id, params = item
        if not isinstance(custom_id, str) or not CUSTOM_ID_RE.match(custom_id):
            raise _invalid(f"custom_id {custom_id!r} must match ^[a-zA-Z0-9_-]{{1,64}}$")
        if custom_id in self.seen:
            raise _invalid(f"duplicate custom_id {custom_id!r} in one batch")
        self.seen.add(custom_id)
        if self.count >= self.max_requests:
            raise _invalid(
                f"batch has more than {self.max_requests:,} requests (provider limit)",
            )
        chunk = b"".join(
            (
                _REQUEST_OPEN if self.count else _REQUEST_OPEN[1:],
                custom_id.encode(),
                _REQUEST_PARAMS,
                _verbatim_params(custom_id, params)
                if self.verbatim
                else _params_bytes(custom_id, params),
                _REQUEST_CLOSE,
            )
        )
        self.size += len(chunk)
        self.count += 1
        if self.size > self.max_bytes:
            raise _invalid(
                f"batch body exceeds {self.max_bytes:,} bytes after {self.count:,} requests "
                "(provider limit 256 MB); split the step into smaller batches",
                error_type="request_too_large",
            )
        return chunk


def _verbatim_params(custom_id: str, params: bytes | dict[str, Any]) -> bytes:
    if not isinstance(params, bytes | bytearray | memoryview):
        raise _invalid(f"requests[{custom_id}].params: a declared body takes stored bytes")
    data = bytes(params)
    if not (data.startswith(b"{") and data.endswith(b"}")):
        raise _invalid(f"requests[{custom_id}].params: stored params are not a JSON object")
    return data


class _Builder:
    def __init__(self, max_requests: int, max_bytes: int) -> None:
        self.body = BatchBody()
        self.encoder = _Encoder(max_requests, max_bytes)

    def add(self, item: BatchRequest) -> None:
        chunk = self.encoder.encode(item)
        self.body.chunks.append(chunk)
        self.body.size, self.body.count = self.encoder.size, self.encoder.count

    def finish(self) -> BatchBody:
        if self.body.count == 0:
            raise _invalid("a batch needs at least one request")
        return self.body


async def build_body(
    requests: BatchRequests,
    *,
    max_requests: int = MAX_BATCH_REQUESTS,
    max_bytes: int = MAX_BATCH_BYTES,
) -> BatchBody:
    """Encode `requests` (sync or async iterable), enforcing the limits as it goes.

    Raises a non-retryable `ProviderError` on a bad or duplicate ``custom_id``, non-object
    params, zero requests, more than `max_requests` requests or a body above `max_bytes`.
    """
    builder = _Builder(max_requests, max_bytes)
    async for item in each_request(requests):
        builder.add(item)
    return builder.finish()


async def each_request(requests: BatchRequests) -> AsyncIterator[BatchRequest]:
    """`requests` one at a time, whether they are a sync or an async iterable."""
    if isinstance(requests, AsyncIterable):
        async for item in requests:
            yield item
    elif isinstance(requests, Iterable):
        for item in requests:
            yield item
    else:
        raise TypeError(f"requests must be an iterable or async iterable, got {type(requests)}")


def check_declared(declared: DeclaredBody, *, max_requests: int, max_bytes: int) -> None:
    """Refuse a declared body the provider would refuse, before anything is sent."""
    if declared.count <= 0:
        raise _invalid("a batch needs at least one request")
    if declared.count > max_requests:
        raise _invalid(
            f"batch has {declared.count:,} requests, more than {max_requests:,} (provider limit)"
        )
    if declared.size > max_bytes:
        raise _invalid(
            f"batch body of {declared.size:,} bytes exceeds {max_bytes:,} bytes "
            "(provider limit 256 MB); split the step into smaller batches",
            error_type="request_too_large",
        )


def _mismatch(declared: DeclaredBody, count: int, size: int) -> ProviderError:
    # Retryable: the requests changed between counting and reading them; the next attempt
    # counts again. The stream stops short, so no batch is created from this body.
    return ProviderError(
        f"requests differ from their declared body: {count:,} requests, {size:,}+ bytes "
        f"read against {declared.count:,} and {declared.size:,} declared",
        retryable=True,
        error_type="body_mismatch",
    )


async def stream_body(
    requests: BatchRequests,
    declared: DeclaredBody,
    *,
    write_size: int = WRITE_SIZE,
) -> AsyncIterator[bytes]:
    """The body of `requests` in writes of about `write_size` bytes, encoded as it goes.

    Call `check_declared` first: the body is held to `declared`, which is within the limits.
    Raises `ProviderError` before the body's last write when a request is bad (not
    retryable) or the requests differ from `declared` (retryable).
    """
    # No limits of its own: exceeding the declaration, which is within them, stops it first.
    encoder = _Encoder(sys.maxsize, sys.maxsize, verbatim=True)
    group: list[bytes] = [_OPEN]
    size = len(_OPEN)

    async for item in each_request(requests):
        chunk = encoder.encode(item)
        if encoder.size > declared.size or encoder.count > declared.count:
            raise _mismatch(declared, encoder.count, encoder.size)
        group.append(chunk)
        size += len(chunk)
        if size >= write_size:
            yield b"".join(group)
            group, size = [], 0
    if encoder.count != declared.count or encoder.size != declared.size:
        raise _mismatch(declared, encoder.count, encoder.size)
    group.append(_CLOSE)
    yield b"".join(group)
