"""Shared mutable state of one emulator instance (owned by its event loop)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .clock import Clock, rfc3339
from .config import EmulatorConfig
from .faults import FaultSet
from .scenario import Scenario
from .store import Batch, BatchStore

STATE_KEY: web.AppKey[EmulatorState] = web.AppKey("emulator_state")
REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id", str)


def state_of(request: web.Request) -> EmulatorState:
    """The EmulatorState of the app serving `request`."""
    return request.app[STATE_KEY]


@dataclass
class EmulatorState:
    """Config, clock, batches, faults, scenario and the request log."""

    config: EmulatorConfig
    clock: Clock = field(default_factory=Clock)
    faults: FaultSet = field(default_factory=FaultSet)
    scenario: Scenario | None = None
    store: BatchStore = field(init=False)
    request_log: deque[dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.store = BatchStore(self.config, self.clock)
        self.request_log = deque(maxlen=self.config.request_log_size)

    def reset(self) -> None:
        """Forget batches, faults, the request log and any clock offset (keeps the scenario)."""
        self.store.reset()
        self.faults.clear()
        self.request_log.clear()
        self.clock.reset()

    def results_url(self, batch: Batch, request: web.Request) -> str:
        """Absolute URL on this emulator's own origin (from the Host header) or a path."""
        path = f"{self.config.clean_prefix}/v1/messages/batches/{batch.id}/results"
        if self.config.results_url_mode == "relative":
            return path
        return f"{request.scheme}://{request.host}{path}"

    def batch_json(self, batch: Batch, request: web.Request) -> dict[str, Any]:
        """The full MessageBatch object; every field present, nullable ones as null."""
        now = self.clock.now()
        available = batch.status == "ended" and batch.archived_at is None
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": batch.status,
            "request_counts": batch.counts(now, self.config.counts_mode == "incremental"),
            "created_at": rfc3339(batch.created_at),
            "expires_at": rfc3339(batch.expires_at),
            "ended_at": rfc3339(batch.ended_at),
            "cancel_initiated_at": rfc3339(batch.cancel_initiated_at),
            "archived_at": rfc3339(batch.archived_at),
            "results_url": self.results_url(batch, request) if available else None,
        }
