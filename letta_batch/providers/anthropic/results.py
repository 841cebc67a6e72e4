"""Reading Message Batch results: the JSONL body, decoded lazily into raw row dicts.

No SDK model is built per row (rows are stored as JSON anyway, and the SDK's decoder reads
64-byte chunks and constructs an unvalidated model per line). Lines are split on ``\\n``
over whole byte chunks, so a ``\\r\\n`` straddling a chunk boundary or a blank line is
harmless; the SDK's own decoder fails on both (spec §2.6).

Interpreting a row (succeeded/errored/…, tool calls, reasoning) is stepping's job:
``letta_batch.stepping.outcome.parse_result``.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from letta_batch import json_codec


async def iter_jsonl_rows(chunks: AsyncIterable[bytes]) -> AsyncIterator[dict[str, Any]]:
    """Yield one dict per non-blank JSONL line of `chunks`.

    A line that is not valid JSON (typically the last one, when the connection dropped
    mid-body) raises `json.JSONDecodeError`, which the error translator marks retryable.
    A line that is valid JSON but not an object raises `ValueError`.
    """
    buf = b""
    async for chunk in chunks:
        if not chunk:
            continue
        buf += chunk
        if b"\n" not in chunk:
            continue
        *lines, buf = buf.split(b"\n")
        for line in lines:
            row = _decode(line)
            if row is not None:
                yield row
    row = _decode(buf)
    if row is not None:
        yield row


def _decode(line: bytes) -> dict[str, Any] | None:
    line = line.strip()
    if not line:
        return None
    row = json_codec.loads(line)
    if not isinstance(row, dict):
        raise ValueError(f"results line is not a JSON object: {line[:80]!r}")
    return row
