"""Batch state and the lifecycle clock (in memory, one event-loop thread).

Requests are stored compactly: custom ids, canonical params (``stored_params``: each distinct
``tools`` array once per batch) and one outcome byte each.
Lifecycle transitions are evaluated lazily (`refresh`) whenever a batch is touched, against
the emulated clock, so advancing the clock or polling is all it takes to move a batch on.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .clock import Clock, new_id, rfc3339, stable_fraction
from .config import EmulatorConfig
from .errors import bad_request, not_found
from .outcomes import CANCELED, CODE_NAMES, EXPIRED, BatchContext
from .stored_params import StoredParams


@dataclass
class Batch:
    """One Message Batch and its requests."""

    id: str
    seq: int
    created_at: datetime
    expires_at: datetime
    processing_seconds: float
    ctx: BatchContext
    custom_ids: list[str]
    params: StoredParams
    user_ids: list[str | None]
    codes: bytearray
    """Outcome per request (outcomes.SUCCEEDED …); final once the batch has ended."""
    status: str = "in_progress"
    ended_at: datetime | None = None
    cancel_initiated_at: datetime | None = None
    archived_at: datetime | None = None
    deleted_at: datetime | None = None
    finished_cut: float | None = None
    """Share of processing time elapsed when cancel/expiry froze the outcomes."""
    accept_seconds: float = 0.0
    """Wall time the emulator spent accepting the create call once its body had arrived
    (decode, validate, store): the provider's own work, which benchmarks keep apart from
    the client's orchestration."""
    results_seconds: float = 0.0
    """CPU seconds spent rendering this batch's results files (every download counted): the
    provider's own work, as ``accept_seconds``."""
    _fractions: array[float] | None = field(default=None, repr=False)
    _final_counts: dict[str, int] | None = field(default=None, repr=False)

    def fractions(self) -> array[float]:
        """When (as a share of processing_seconds) each request finishes; deterministic."""
        if self._fractions is None:
            self._fractions = array("d", (stable_fraction("done", c) for c in self.custom_ids))
        return self._fractions

    def elapsed_share(self, now: datetime) -> float:
        """Share of the processing time elapsed at `now` (1.0 when processing is instant)."""
        if self.processing_seconds <= 0:
            return 1.0
        return (now - self.created_at).total_seconds() / self.processing_seconds

    def counts(self, now: datetime, incremental: bool) -> dict[str, int]:
        """`request_counts`; the five buckets always sum to the number of requests."""
        if self.status == "ended" and self._final_counts is not None:
            return dict(self._final_counts)
        out = dict.fromkeys(("processing", *CODE_NAMES), 0)
        if self.status != "ended" and not incremental:
            out["processing"] = len(self.custom_ids)
            return out
        cut = None
        if self.status != "ended":
            frozen = 1.0 if self.finished_cut is None else self.finished_cut
            cut = min(self.elapsed_share(now), frozen)
        fracs = self.fractions() if cut is not None else None
        for i, code in enumerate(self.codes):
            if fracs is not None and cut is not None and fracs[i] > cut:
                out["processing"] += 1
            else:
                out[CODE_NAMES[code]] += 1
        if self.status == "ended":
            self._final_counts = dict(out)  # outcomes never change after the end
        return out


class BatchStore:
    """All batches ever created (deleted ones stay, flagged, for the admin view)."""

    def __init__(self, config: EmulatorConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.batches: dict[str, Batch] = {}
        self.order: list[Batch] = []

    def reset(self) -> None:
        """Forget every batch."""
        self.batches.clear()
        self.order.clear()

    def add(
        self,
        ctx: BatchContext,
        ids: list[str],
        params: StoredParams,
        user_ids: list[str | None],
        codes: bytearray,
    ) -> Batch:
        """Store a freshly validated batch (status in_progress)."""
        now = self.clock.now()
        batch = Batch(
            id=new_id("msgbatch_"), seq=len(self.order), created_at=now,
            expires_at=now + timedelta(seconds=self.config.expiry_seconds),
            processing_seconds=self.config.processing_seconds, ctx=ctx, custom_ids=ids,
            params=params, user_ids=user_ids, codes=codes,
        )  # fmt: skip
        self.batches[batch.id] = batch
        self.order.append(batch)
        return batch

    def get(self, batch_id: str, *, include_deleted: bool = False) -> Batch:
        """A live batch (refreshed) or 404."""
        batch = self.batches.get(batch_id)
        if batch is None or (batch.deleted_at is not None and not include_deleted):
            raise not_found(f"Message Batch {batch_id} not found.")
        self.refresh(batch)
        return batch

    def refresh(self, batch: Batch) -> None:
        """Apply due lifecycle transitions (end, expiry, drain after cancel, archival)."""
        now = self.clock.now()
        if batch.status == "in_progress":
            done_at = batch.created_at + timedelta(seconds=batch.processing_seconds)
            if now >= done_at and done_at <= batch.expires_at:
                self._end(batch, done_at if batch.processing_seconds > 0 else now)
            elif now >= batch.expires_at:
                share = (batch.expires_at - batch.created_at).total_seconds()
                self._freeze(batch, share / max(batch.processing_seconds, 1e-9), EXPIRED)
                self._end(batch, batch.expires_at)
        elif batch.status == "canceling" and batch.cancel_initiated_at is not None:
            drained = batch.cancel_initiated_at + timedelta(
                seconds=self.config.cancel_drain_seconds
            )
            if now >= drained:
                self._end(batch, drained)
        archive_at = batch.created_at + timedelta(seconds=self.config.archive_seconds)
        if batch.status == "ended" and batch.archived_at is None and now >= archive_at:
            batch.archived_at = archive_at

    def _freeze(self, batch: Batch, share: float, code: int) -> None:
        """Requests not finished at `share` of the processing time get `code`."""
        batch.finished_cut = share
        fracs = batch.fractions()
        for i, frac in enumerate(fracs):
            if frac > share and batch.codes[i] not in (CANCELED, EXPIRED):
                batch.codes[i] = code

    def _end(self, batch: Batch, at: datetime) -> None:
        batch.status = "ended"
        batch.ended_at = at

    def cancel(self, batch_id: str) -> Batch:
        """in_progress -> canceling; unfinished requests will be `canceled`."""
        batch = self.get(batch_id)
        if batch.status == "ended":
            raise bad_request(
                f"Batch {batch.id} cannot be canceled because it has already finished processing"
            )
        if batch.status == "in_progress":
            now = self.clock.now()
            self._freeze(batch, batch.elapsed_share(now) if batch.processing_seconds > 0 else 0.0,
                         CANCELED)  # fmt: skip
            batch.status = "canceling"
            batch.cancel_initiated_at = now
        return batch

    def delete(self, batch_id: str) -> Batch:
        """Only ended batches; afterwards 404 everywhere except the admin view."""
        batch = self.get(batch_id)
        if batch.status != "ended":
            raise bad_request(
                "In progress batches cannot be deleted. Consider canceling the batch instead."
            )
        batch.deleted_at = self.clock.now()
        batch.params = StoredParams()  # free the bulk of the memory; ids stay for the admin view
        return batch

    def force_end(self, batch_id: str) -> Batch:
        """Admin: end now; unfinished requests keep their natural outcome."""
        batch = self.get(batch_id)
        if batch.status != "ended":
            self._end(batch, self.clock.now())
        return batch

    def force_expire(self, batch_id: str, *, all_requests: bool = True) -> Batch:
        """Admin: end now as if expired; every (or every unfinished) request -> expired."""
        batch = self.get(batch_id)
        if batch.status == "ended":
            raise bad_request(f"Batch {batch.id} has already ended")
        now = self.clock.now()
        self._freeze(batch, -1.0 if all_requests else batch.elapsed_share(now), EXPIRED)
        self._end(batch, now)
        return batch

    def page(self, limit: int, after_id: str | None, before_id: str | None) -> dict[str, Any]:
        """One list page, newest first; `has_more` refers to the requested direction."""
        if after_id and before_id:
            raise bad_request("Only one of before_id and after_id may be given")
        cursor = after_id or before_id
        if cursor and cursor not in self.batches:
            raise bad_request(f"Invalid cursor: {cursor}")
        live = [b for b in self.order if b.deleted_at is None]
        if after_id:
            seq = self.batches[after_id].seq
            older = [b for b in reversed(live) if b.seq < seq]
            chosen, has_more = older[:limit], len(older) > limit
        elif before_id:
            seq = self.batches[before_id].seq
            newer = [b for b in live if b.seq > seq]  # oldest first: closest to the cursor
            chosen, has_more = list(reversed(newer[:limit])), len(newer) > limit
        else:
            newest = list(reversed(live))
            chosen, has_more = newest[:limit], len(newest) > limit
        for batch in chosen:
            self.refresh(batch)
        return {"batches": chosen, "has_more": has_more}

    def summary(self, batch: Batch, *, requests: bool = True) -> dict[str, Any]:
        """Admin view of one batch (deleted ones included)."""
        if batch.deleted_at is None:
            self.refresh(batch)
        counts = batch.counts(self.clock.now(), self.config.counts_mode == "incremental")
        out: dict[str, Any] = {
            "id": batch.id, "created_at": rfc3339(batch.created_at), "status": batch.status,
            "processing_status": batch.status, "deleted": batch.deleted_at is not None,
            "deleted_at": rfc3339(batch.deleted_at), "ended_at": rfc3339(batch.ended_at),
            "request_counts": counts, "num_requests": len(batch.custom_ids),
            "accept_seconds": round(batch.accept_seconds, 6),
            "results_seconds": round(batch.results_seconds, 6),
        }  # fmt: skip
        if requests:
            out["custom_ids"] = list(batch.custom_ids)
            out["requests"] = [
                {"custom_id": c, "user_id": u,
                 "outcome": CODE_NAMES[o] if batch.status == "ended" else None}
                for c, u, o in zip(batch.custom_ids, batch.user_ids, batch.codes, strict=True)
            ]  # fmt: skip
        return out
