"""iter_jsonl_rows: the cases the SDK's own decoder gets wrong (spec §2.6)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from letta_batch.providers.anthropic import iter_jsonl_rows
from letta_batch.providers.errors import translate_error


async def rows_of(*chunks: bytes) -> list[dict]:
    async def gen() -> AsyncIterator[bytes]:
        for c in chunks:
            yield c

    return [r async for r in iter_jsonl_rows(gen())]


A = b'{"custom_id":"a","result":{"type":"canceled"}}'
B = b'{"custom_id":"b","result":{"type":"expired"}}'


@pytest.mark.parametrize(
    "chunks",
    [
        (A + b"\n" + B + b"\n",),
        (A + b"\n" + B,),  # no trailing newline
        (A + b"\r\n" + B + b"\r\n",),
        (A + b"\r", b"\n" + B + b"\r", b"\n"),  # \r\n straddling chunk boundaries
        (A + b"\n\n" + B + b"\n\n",),  # blank lines
        tuple(bytes([c]) for c in A + b"\n" + B + b"\n"),  # one byte at a time
        (b"", A[:10], A[10:] + b"\n", b"", B, b"\n"),
    ],
)
async def test_lines(chunks: tuple[bytes, ...]) -> None:
    assert [r["custom_id"] for r in await rows_of(*chunks)] == ["a", "b"]


async def test_empty_body() -> None:
    assert await rows_of() == [] and await rows_of(b"") == []


async def test_truncated_last_line_is_retryable() -> None:
    with pytest.raises(json.JSONDecodeError) as exc:
        await rows_of(A + b"\n" + B[:20])
    assert translate_error(exc.value).retryable


async def test_non_object_line_is_rejected() -> None:
    with pytest.raises(ValueError, match="not a JSON object"):
        await rows_of(b"[1, 2]\n")
