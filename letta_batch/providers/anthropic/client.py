"""`AnthropicBatchProvider`: Message Batches through the official SDK, retries off.

Temporal owns retries, so the SDK is built with ``max_retries=0`` and every call is wrapped:
whatever fails surfaces as `ProviderError` (``raise … from None``, so the original exception,
which may echo request headers, is not chained into Temporal's failure).

Create sends raw bytes: the SDK's low-level ``AsyncAnthropic.post(path, content=…)`` takes
bytes or an async byte iterator (``FinalRequestOptions.content`` in 2.12.0). `build_body`
encodes the requests into byte chunks (stored params spliced in verbatim; no dicts, no SDK
request models) and checks the 100,000-request / 256 MB limits; the chunks are then streamed
in ~1 MiB writes with an exact ``Content-Length`` through the SDK's auth headers, base URL
and error mapping. Peak memory is therefore about one body (≤ 256 MB), as bytes. When the
caller declares the body's count and exact size (``send`` counts them in the database), the
limits are checked on the declaration and the requests are encoded as they are sent
(`stream_body`): peak memory is then one write (~1 MiB) plus what the caller holds.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import anthropic
import httpx2
from anthropic.types.messages import MessageBatch

from letta_batch.config import Settings
from letta_batch.providers.anthropic.batch_body import (
    MAX_BATCH_BYTES,
    MAX_BATCH_REQUESTS,
    build_body,
    check_declared,
    each_request,
    stream_body,
)
from letta_batch.providers.anthropic.results import iter_jsonl_rows
from letta_batch.providers.base import BatchInfo, BatchRequest, BatchRequests, DeclaredBody
from letta_batch.providers.errors import ProviderError, register_secret, translate_error
from letta_batch.schemas.batch import RequestCounts

log = logging.getLogger(__name__)

#: Sent when no key is configured (the emulator accepts any key unless told otherwise).
EMULATOR_DUMMY_KEY = "letta-batch-emulator-key"
DEFAULT_TIMEOUT = 600.0
CONNECT_TIMEOUT = 10.0
_BATCHES_PATH = "/v1/messages/batches"
_LIST_PAGE = 100


def batch_info(batch: MessageBatch | dict[str, Any]) -> BatchInfo:
    """`BatchInfo` from an SDK ``MessageBatch`` (or its JSON).

    Raises a non-retryable ``invalid_response`` `ProviderError` on a malformed object.
    """
    raw = batch if isinstance(batch, dict) else batch.model_dump(mode="json")
    try:
        return _batch_info(raw)
    except (KeyError, TypeError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        raise ProviderError(
            f"unexpected MessageBatch object: {exc}", retryable=False, error_type="invalid_response"
        ) from None


def _batch_info(raw: dict[str, Any]) -> BatchInfo:
    return BatchInfo(
        id=raw["id"],
        processing_status=raw["processing_status"],
        request_counts=RequestCounts.model_validate(raw.get("request_counts") or {}),
        created_at=raw["created_at"],
        expires_at=raw.get("expires_at"),
        ended_at=raw.get("ended_at"),
        cancel_initiated_at=raw.get("cancel_initiated_at"),
        archived_at=raw.get("archived_at"),
        results_available=bool(raw.get("results_url")) and raw["processing_status"] == "ended",
        raw=raw,
    )


class AnthropicBatchProvider:
    """The Anthropic Message Batches adapter (implements `BatchProvider`)."""

    name = "anthropic"

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        settings: Settings | None = None,
        max_requests: int = MAX_BATCH_REQUESTS,
        max_body_bytes: int = MAX_BATCH_BYTES,
    ) -> None:
        """Explicit arguments win; otherwise ``ANTHROPIC_API_KEY``/``ANTHROPIC_BASE_URL`` apply.

        Without any key a dummy key is sent, which only makes sense against the emulator, so
        a base URL is then required.
        """
        if api_key is None or base_url is None:
            settings = settings or Settings.from_env()
            api_key = api_key or settings.anthropic_api_key
            base_url = base_url or settings.anthropic_base_url
        if not api_key:
            if not base_url:
                raise ValueError(
                    "no ANTHROPIC_API_KEY set and no ANTHROPIC_BASE_URL (emulator) to use instead"
                )
            api_key = EMULATOR_DUMMY_KEY
        register_secret(api_key)
        self.base_url = base_url
        self.max_requests = max_requests
        self.max_body_bytes = max_body_bytes
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=base_url,
            # A 256 MB upload or a long results stream needs a long read/write timeout; a
            # dead endpoint should still fail fast (the SDK's own default connect is 5 s).
            timeout=httpx2.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT)),
            max_retries=0,  # Temporal owns retries
        )

    async def __aenter__(self) -> AnthropicBatchProvider:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def create_batch(
        self, requests: BatchRequests, declared: DeclaredBody | None = None
    ) -> BatchInfo:
        """Create a batch; the body is checked against the limits before anything is sent.

        Without ``declared`` the whole body is encoded first (`build_body`); with it, the
        declaration is checked and the requests are encoded while they are sent
        (`stream_body`), holding one write instead of the body.

        Not idempotent at Anthropic: after a retryable failure the batch may exist anyway;
        reconcile with `list_batches` before creating again.
        """
        content: AsyncIterator[bytes]
        source_failures: list[Exception] = []
        if declared is None:
            body = await build_body(
                requests, max_requests=self.max_requests, max_bytes=self.max_body_bytes
            )
            count, size, content = body.count, body.size, body.stream()
        else:
            check_declared(declared, max_requests=self.max_requests, max_bytes=self.max_body_bytes)
            count, size = declared.count, declared.size
            content = stream_body(_recording(requests, source_failures), declared)
        log.info("creating batch: %d requests, %d bytes", count, size)
        try:
            batch = await self._client.post(
                _BATCHES_PATH,
                cast_to=MessageBatch,
                content=content,
                options={
                    "headers": {
                        "Content-Type": "application/json",
                        "Content-Length": str(size),
                    }
                },
            )
        except Exception as exc:
            if source_failures:
                # The requests' own source failed while the body streamed (reading them from
                # our database, say): not the provider's error, so not translated as one.
                raise source_failures[0] from None
            raise translate_error(exc) from None
        return batch_info(batch)

    async def retrieve_batch(self, batch_id: str) -> BatchInfo:
        try:
            batch = await self._client.messages.batches.retrieve(batch_id)
        except Exception as exc:
            raise translate_error(exc) from None
        return batch_info(batch)

    async def cancel_batch(self, batch_id: str) -> BatchInfo:
        try:
            batch = await self._client.messages.batches.cancel(batch_id)
        except Exception as exc:
            raise translate_error(exc) from None
        return batch_info(batch)

    async def list_batches(self, created_after: datetime) -> list[BatchInfo]:
        """Batches created at or after `created_after`, newest first (pages until older)."""
        if created_after.tzinfo is None:
            created_after = created_after.replace(tzinfo=UTC)
        found: list[BatchInfo] = []
        try:
            page = await self._client.messages.batches.list(limit=_LIST_PAGE)
            async for batch in page:
                if batch.created_at < created_after:
                    break
                found.append(batch_info(batch))
        except Exception as exc:
            raise translate_error(exc) from None
        return found

    async def results(self, batch_id: str) -> AsyncIterator[dict[str, Any]]:
        """Stream the raw result rows of an ended batch (lazily; one HTTP response).

        A batch that has not ended raises a retryable ``results_not_ready`` error; a body cut
        mid-stream raises a retryable error after the rows already yielded (callers store
        rows idempotently by ``custom_id`` and may simply read again).
        """
        try:
            info = await self.retrieve_batch(batch_id)
            if not info.results_available:
                raise ProviderError(
                    f"batch {batch_id} has no results yet ({info.processing_status})",
                    retryable=True,
                    error_type="results_not_ready",
                )
            results_url = str(info.raw["results_url"])
            response = await self._client.get(
                results_url,
                cast_to=httpx2.Response,  # the raw response, body not read yet
                options={"headers": {"Accept": "application/binary"}},
                stream=True,
            )
        except Exception as exc:
            raise translate_error(exc) from None
        try:
            async for row in iter_jsonl_rows(response.aiter_bytes()):
                yield row
        except Exception as exc:
            raise translate_error(exc) from None
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        await self._client.close()


async def _recording(
    requests: BatchRequests, failures: list[Exception]
) -> AsyncIterator[BatchRequest]:
    """`requests`, with whatever their iteration raises recorded in `failures` as it passes.

    The SDK wraps any error raised while it sends a streamed body in a connection error;
    `create_batch` raises a failure of the source itself as it is instead."""
    try:
        async for item in each_request(requests):
            yield item
    except Exception as exc:
        failures.append(exc)
        raise
