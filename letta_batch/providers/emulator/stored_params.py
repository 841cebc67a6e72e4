"""A batch's request params as the emulator keeps them: canonical JSON, ``tools`` shared.

A request's ``tools`` array is most of its bytes (7 KB of a typical 10 KB Letta request), and
the requests of a batch mostly send the same one. Keeping every request's canonical params
whole held ~1 GB for a 100,000-request batch, and rendering a results row parsed the whole
array again for every request. Each distinct array is now kept once per batch, with its
parsed value; a request keeps its other params, with a one-byte placeholder where the
array goes back.

The canonical form is unchanged (compact, keys sorted at every level, non-ASCII as is), so
every request's seed, and with it every result row, is the same as when the params were
kept whole: :meth:`StoredParams.canonical` puts the array back byte for byte.
"""

from __future__ import annotations

import json
from array import array
from typing import Any

from letta_batch import json_codec

#: A string no request sends: the array's place in the sorted params is found by serialising
#: it there. ``_split`` checks that it occurs exactly once.
_SENTINEL = "\ue000letta-emulator-tools-slot\ue000"
_KEY = b'"tools":'
_SLOT = _KEY + json_codec.dumps_bytes(_SENTINEL)
#: What takes the array's place in a stored body: one byte, so that the body still parses.
_PLACEHOLDER = b"0"
_NO_TOOLS = -1


def canonical(params: Any) -> bytes:
    """Canonical JSON bytes of ``params``: the stored form and the model's seed input."""
    return json_codec.dumps_bytes(params, sort_keys=True)


class StoredParams:
    """The params of one batch's requests, in request order (append-only while created)."""

    def __init__(self) -> None:
        self._bodies: list[bytes] = []
        self._tools_at = array("q")
        """Byte offset of the placeholder in each body (0 when the body is whole)."""
        self._tools_of = array("q")
        """Index into ``_arrays`` per request, ``_NO_TOOLS`` when the body is whole."""
        self._arrays: list[bytes] = []
        self._index: dict[bytes, int] = {}
        self._values: list[Any] = []
        """Each array as decoded from the first request that sent it (equal canonical bytes
        mean equal JSON, which ``==`` on decoded values does not: ``1 == 1.0 == True``)."""

    def __len__(self) -> int:
        return len(self._bodies)

    @property
    def shared_arrays(self) -> int:
        """Distinct ``tools`` arrays kept once for the batch."""
        return len(self._arrays)

    def add(self, params: Any) -> None:
        """Store one request's params (any JSON value: validation comes later)."""
        tools = params.get("tools") if isinstance(params, dict) else None
        if isinstance(tools, list) and tools:
            split = self._split(params)
            if split is not None:
                body, at = split
                self._bodies.append(body)
                self._tools_at.append(at)
                self._tools_of.append(self._array_index(tools))
                return
        self._bodies.append(canonical(params))
        self._tools_at.append(0)
        self._tools_of.append(_NO_TOOLS)

    def canonical(self, i: int) -> bytes:
        """Request ``i``'s canonical params, exactly as if they had been kept whole."""
        body, k = self._bodies[i], self._tools_of[i]
        if k == _NO_TOOLS:
            return body
        at = self._tools_at[i]
        return b"".join((body[:at], self._arrays[k], body[at + len(_PLACEHOLDER) :]))

    def parsed(self, i: int) -> Any:
        """Request ``i``'s params as parsed JSON (the standard library's decoder, as at create).
        The ``tools`` list is shared by the requests that sent the same array: read it, never
        change it."""
        params = json.loads(self._bodies[i])
        k = self._tools_of[i]
        if k != _NO_TOOLS:
            params["tools"] = self._values[k]
        return params

    @staticmethod
    def _split(params: dict[str, Any]) -> tuple[bytes, int] | None:
        """The canonical params with the placeholder where ``tools`` goes, and its offset."""
        text = canonical({**params, "tools": _SENTINEL})
        slot = text.find(_SLOT)
        if slot < 0 or text.find(_SLOT, slot + 1) >= 0:
            return None  # the request sends the sentinel itself: keep it whole
        at = slot + len(_KEY)
        return b"".join((text[:at], _PLACEHOLDER, text[slot + len(_SLOT) :])), at

    def _array_index(self, tools: list[Any]) -> int:
        data = canonical(tools)
        k = self._index.get(data)
        if k is None:
            k = self._index[data] = len(self._arrays)
            self._arrays.append(data)
            self._values.append(tools)
        return k
