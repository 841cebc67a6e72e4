"""Streaming `GET …/results`: lazily rendered JSONL, seeded shuffle, slow/cut stream faults."""

from __future__ import annotations

import asyncio
import random
import time
from typing import TYPE_CHECKING

from aiohttp import web

from .errors import not_found
from .faults import STREAM_KINDS, FaultRule
from .outcomes import RowRenderer
from .state import REQUEST_ID, state_of
from .stored_params import StoredParams

if TYPE_CHECKING:
    from .store import Batch

CONTENT_TYPE = "application/x-jsonl"


def shuffled_order(batch: Batch, seed: str) -> list[int]:
    """Row order of the results file: shuffled like the live API, but fixed per batch."""
    order = list(range(len(batch.custom_ids)))
    random.Random(f"{seed}:{batch.id}").shuffle(order)
    return order


def _render(renderer: RowRenderer, batch: Batch, params: StoredParams, idxs: list[int]) -> bytes:
    return b"".join(renderer.line(batch.custom_ids[i], params, i, batch.codes[i]) for i in idxs)


def _render_timed(
    renderer: RowRenderer, batch: Batch, params: StoredParams, idxs: list[int]
) -> tuple[bytes, float]:
    """The rows and the CPU seconds this thread spent rendering them (not waiting)."""
    started = time.thread_time()
    rows = _render(renderer, batch, params, idxs)
    return rows, time.thread_time() - started


async def stream_results(request: web.Request) -> web.StreamResponse:
    """GET {results_url}: one JSON object per line, `\\n`-terminated, no blank lines."""
    state = state_of(request)
    batch = state.store.get(request.match_info["batch_id"])
    if batch.status != "ended" or batch.archived_at is not None:
        raise not_found(f"Message Batch {batch.id} has no available results.")
    faults: dict[str, FaultRule] = {}
    while (rule := state.faults.take("results", STREAM_KINDS)) is not None:
        faults.setdefault(rule.kind, rule)
    slow, cut = faults.get("slow"), faults.get("cut")
    rows_per_chunk = state.config.results_chunk_rows
    delay = 0.0
    if slow is not None:
        rows_per_chunk = max(1, int(slow.param("rows", 1)))
        delay = float(slow.param("delay", 0.1))
    order = shuffled_order(batch, state.config.seed)
    cut_after = len(order) // 2 if cut is None else int(cut.param("after", len(order) // 2))
    params = batch.params  # keep a reference: a concurrent delete must not break the stream
    renderer = RowRenderer(batch.id, batch.ctx)
    resp = web.StreamResponse(
        status=200,
        headers={"content-type": CONTENT_TYPE, "request-id": request[REQUEST_ID]},
    )
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    loop = asyncio.get_running_loop()
    sent = 0
    while sent < len(order):
        stop = len(order) if cut is None else min(len(order), cut_after)
        idxs = order[sent : min(stop, sent + rows_per_chunk)]
        if not idxs:
            break
        # Rendering runs in a worker thread so a 100k-row stream does not starve the loop.
        rows, cpu = await loop.run_in_executor(None, _render_timed, renderer, batch, params, idxs)
        batch.results_seconds += cpu
        await resp.write(rows)
        sent += len(idxs)
        if delay:
            await asyncio.sleep(delay)
    if cut is not None:
        await _cut(request, resp, renderer, batch, params, order, sent)
        return resp
    await resp.write_eof()
    return resp


async def _cut(
    request: web.Request,
    resp: web.StreamResponse,
    renderer: RowRenderer,
    batch: Batch,
    params: StoredParams,
    order: list[int],
    sent: int,
) -> None:
    """Send half of the next line, then drop the connection mid-body."""
    if sent < len(order):
        line = _render(renderer, batch, params, [order[sent]])
        await resp.write(line[: max(1, len(line) // 2)])
    await asyncio.sleep(0.01)  # let the partial chunk reach the socket before closing
    if request.transport is not None:
        request.transport.close()
    raise asyncio.CancelledError
