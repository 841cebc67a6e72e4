"""Create bodies decoded request by request give what the whole decode gives: the same
stored batch, or the same error (the first of several, as the whole decode orders them)."""

from __future__ import annotations

import codecs
import json
from typing import Any

import pytest

from letta_batch.providers.emulator.app import _classify, _prepare
from letta_batch.providers.emulator.config import EmulatorConfig
from letta_batch.providers.emulator.envelope_stream import (
    NotStreamable,
    body_text,
    stream_requests,
)
from letta_batch.providers.emulator.errors import ApiError
from letta_batch.providers.emulator.outcomes import BatchContext
from letta_batch.providers.emulator.validation import check_envelope, decode_body

CONFIG = EmulatorConfig(max_requests=4)


def params(text: str = "hi", **extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": text}],
        "tools": [{"name": "send_message", "input_schema": {"type": "object"}}],
        **extra,
    }


def body(*requests: Any, **envelope: Any) -> bytes:
    return json.dumps({"requests": list(requests), **envelope}).encode()


def req(custom_id: str, p: Any = None) -> dict[str, Any]:
    return {"custom_id": custom_id, "params": params() if p is None else p}


VALID = body(req("a"), req("b", params("ünï 😀", metadata={"requests": [1]})), req("c"))

STREAMED = {
    "compact": VALID,
    "pretty": json.dumps(json.loads(VALID), indent=2, ensure_ascii=False).encode(),
    "json whitespace": b' \r\n\t{ "requests" :\n[ '
    + b" ,\n\t".join(json.dumps(r).encode() for r in json.loads(VALID)["requests"])
    + b" \r\n] }\n ",
    "one request": body(req("only")),
    "params that fail later (errored rows)": body(req("x", {"model": 3}), req("y")),
}

WHOLE = {
    "byte-order mark": codecs.BOM_UTF8 + VALID,
    "UTF-16": VALID.decode().encode("utf-16"),
    "invalid UTF-8": VALID.replace(b"hi", b"h\xff"),
    "a key before": b'{"metadata": {}, ' + VALID[1:],
    "a key after": body(req("a"), extra=1),
    "requests twice": VALID[:-1] + b', "requests": []}',
    "requests not a list": b'{"requests": {"a": 1}}',
    "no requests": b'{"requests": []}',
    "too many": body(*(req(f"r{i}") for i in range(5))),
    "duplicate custom_id": body(req("a"), req("b"), req("a")),
    "bad item, then invalid JSON": body(req("a"), {"custom_id": "b"})[:-2] + b", {]}",
    "bad custom_id": body(req("a"), req("not valid!")),
    "NaN": body(req("a"))[:-3] + b', "x": NaN}]}',
    "trailing garbage": VALID + b"x",
    "not an object": b'[{"requests": []}]',
}


def outcome(fn: Any) -> Any:
    try:
        ids, stored, user_ids, codes = fn()
    except ApiError as exc:
        return ("error", exc.status, exc.message)
    return ids, [stored.canonical(i) for i in range(len(stored))], user_ids, bytes(codes)


def whole(data: bytes, ctx: BatchContext) -> Any:
    """The emulator's create before request-by-request decoding."""
    return _classify(iter(check_envelope(decode_body(data), ctx.config)), ctx)


@pytest.mark.parametrize("name", [*STREAMED, *WHOLE])
def test_same_batch_or_same_error_as_the_whole_decode(name: str) -> None:
    data = {**STREAMED, **WHOLE}[name]
    ctx = BatchContext(CONFIG, None, None)
    assert outcome(lambda: _prepare([bytearray(data)], ctx)) == outcome(lambda: whole(data, ctx))


@pytest.mark.parametrize("name", list(STREAMED))
def test_valid_bodies_are_streamed(name: str) -> None:
    text = body_text(STREAMED[name])
    assert text is not None
    pairs = list(stream_requests(text, CONFIG.max_requests))
    assert pairs == check_envelope(json.loads(STREAMED[name]), CONFIG)


@pytest.mark.parametrize("name", list(WHOLE))
def test_other_bodies_are_decoded_whole(name: str) -> None:
    text = body_text(WHOLE[name])
    if text is None:
        return  # not read as plain UTF-8 at all: decoded whole
    with pytest.raises(NotStreamable):
        list(stream_requests(text, CONFIG.max_requests))
