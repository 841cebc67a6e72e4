"""The provider-neutral batch interface every adapter implements.

A provider batch is created from ``(custom_id, params)`` pairs, polled until it ends,
and its results are read back as raw rows ``{"custom_id": …, "result": {…}}``. Adapters
raise only `letta_batch.providers.errors.ProviderError` from these methods.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from letta_batch.schemas.batch import RequestCounts

#: A request of a batch: its ``custom_id`` and its params, either as the JSON bytes stored in
#: the database (sent verbatim, never re-parsed) or as a dict.
BatchRequest = tuple[str, bytes | dict[str, Any]]
BatchRequests = AsyncIterable[BatchRequest] | Iterable[BatchRequest]

ProcessingStatus = Literal["in_progress", "canceling", "ended"]


@dataclass(frozen=True)
class DeclaredBody:
    """A create body's request count and exact size in bytes, known before its requests are
    read: the adapter checks the limits on it and then streams the requests as they come,
    instead of holding the whole body (up to 256 MB) first."""

    count: int
    size: int


@dataclass(frozen=True)
class BatchLimits:
    """How much one provider batch may hold, and how its create body grows per request.

    ``build`` plans a step's parts with these so that every part is accepted; the body
    overheads make the planned size exact, not an estimate.
    """

    max_requests: int
    """Requests per batch (Anthropic: 100,000)."""
    max_bytes: int
    """Bytes of one create body (Anthropic: 256 MB)."""
    body_overhead: int
    """Bytes of a body with no requests, less one request separator."""
    request_overhead: int
    """Bytes each request adds besides its ``custom_id`` and params, separator included."""

    def request_bytes(self, custom_id: str, params_bytes: int) -> int:
        return self.request_overhead + len(custom_id.encode()) + params_bytes

    def narrowed(self, max_requests: int | None, max_bytes: int | None) -> BatchLimits:
        """These limits, lowered to the given ones where those are set and smaller."""
        return replace(
            self,
            max_requests=min(self.max_requests, max_requests or self.max_requests),
            max_bytes=min(self.max_bytes, max_bytes or self.max_bytes),
        )


class BatchInfo(BaseModel):
    """A provider batch as last seen (provider-neutral view of Anthropic's ``MessageBatch``)."""

    id: str
    processing_status: ProcessingStatus
    request_counts: RequestCounts = Field(default_factory=RequestCounts)
    """Per-outcome counts; their sum is the number of requests."""
    created_at: datetime
    expires_at: datetime | None = None
    ended_at: datetime | None = None
    cancel_initiated_at: datetime | None = None
    archived_at: datetime | None = None
    """Set once results are gone (29 days after creation at Anthropic)."""
    results_available: bool = False
    """True once results can be streamed (the batch ended and has a results URL)."""
    raw: dict[str, Any] = Field(default_factory=dict)
    """The provider's object as JSON, for storage (``create_batch_response`` etc.)."""

    @property
    def ended(self) -> bool:
        return self.processing_status == "ended"

    @property
    def total_requests(self) -> int:
        c = self.request_counts
        return c.processing + c.succeeded + c.errored + c.canceled + c.expired


@runtime_checkable
class BatchProvider(Protocol):
    """What the batch workflow needs from a provider. All methods raise `ProviderError`."""

    name: str
    """Registry name of the provider (``"anthropic"``)."""

    async def create_batch(
        self, requests: BatchRequests, declared: DeclaredBody | None = None
    ) -> BatchInfo:
        """Create one batch from the requests (consumed once, streamed into the request body).

        With ``declared`` (the body's exact size, see `BatchLimits`) the requests are encoded
        while they are sent; a body that differs from it is never completed.
        """
        ...

    async def retrieve_batch(self, batch_id: str) -> BatchInfo: ...

    async def cancel_batch(self, batch_id: str) -> BatchInfo:
        """Ask the provider to cancel; the batch then moves to ``canceling`` and ``ended``."""
        ...

    async def list_batches(self, created_after: datetime) -> list[BatchInfo]:
        """Batches created at or after `created_after`, newest first.

        Used to find a batch whose create call succeeded at the provider but whose response
        was lost (the create is not idempotent at Anthropic).
        """
        ...

    def results(self, batch_id: str) -> AsyncIterator[dict[str, Any]]:
        """Stream the result rows of an ended batch, lazily, in the provider's order."""
        ...

    async def aclose(self) -> None: ...
