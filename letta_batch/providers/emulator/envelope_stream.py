"""Decoding a create body one request at a time, so a 256 MB body is never held decoded whole.

``json.loads`` of a create body builds every request's objects at once: the emulator peaked
at 2.2 GB on a 100,000-agent job (bodies of up to 256 MB), and at 822 MB for a single
10,000-request body. The body every client sends, ``{"requests": [{…}, {…}, …]}``, is decoded
here request by request instead, each released once the emulator has stored it.

Only a body that is valid from end to end is streamed. At the first thing that is not as
expected (another key, invalid JSON, a request that fails validation, a duplicate custom id,
too many requests) :class:`NotStreamable` sends the caller back to decoding the body whole,
so that errors, and which of several comes first, are exactly those of the whole decode.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from .errors import ApiError
from .validation import check_item, json_decoder

_WS = re.compile(r"[ \t\n\r]*")  # JSON's whitespace, as the json module's scanner skips it
_HEAD = re.compile(r'[ \t\n\r]*\{[ \t\n\r]*"requests"[ \t\n\r]*:[ \t\n\r]*\[')
_TAIL = re.compile(r"[ \t\n\r]*\}[ \t\n\r]*\Z")


class NotStreamable(Exception):
    """The body is not one this module streams: decode it whole."""


def body_text(body: bytes | bytearray) -> str | None:
    """The body as text if ``json.loads`` would read it as plain UTF-8, else None (UTF-16/32,
    a byte-order mark or invalid UTF-8: the whole decode handles, or rejects, those)."""
    if json.detect_encoding(body) != "utf-8":
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def stream_requests(text: str, max_requests: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(custom_id, params)`` of each request in order, validated as ``check_envelope``
    validates them; raises :class:`NotStreamable` (possibly after yielding some) instead of
    any error."""
    head = _HEAD.match(text)
    if head is None:
        raise NotStreamable
    pos = _skip_ws(text, head.end())
    if text.startswith("]", pos):
        raise NotStreamable  # no requests: the whole decode words that error
    decoder = json_decoder()
    seen: set[str] = set()
    index = 0
    while True:
        try:
            item, pos = decoder.raw_decode(text, pos)
            custom_id, params = check_item(index, item)
        except (ValueError, RecursionError, ApiError):
            raise NotStreamable from None
        if custom_id in seen or index >= max_requests:
            raise NotStreamable
        seen.add(custom_id)
        index += 1
        del item  # the request's objects go once the caller has stored them
        yield custom_id, params
        del params
        pos = _skip_ws(text, pos)
        if text.startswith(",", pos):
            pos = _skip_ws(text, pos + 1)
        elif text.startswith("]", pos) and _TAIL.match(text, pos + 1):
            return
        else:
            raise NotStreamable


def _skip_ws(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    assert match is not None  # zero or more characters: it always matches
    return match.end()
