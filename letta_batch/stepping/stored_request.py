"""A request as ``build`` stores it: its params without the shared ``tools`` array.

Most of a request's bytes are its ``tools`` array (7 KB of a typical 9.5 KB request), and
thousands of agents send the same one. Storing it in every item row made PostgreSQL
compress, TOAST and WAL-log ~96 MB per 10,000-agent step, and ``send`` read it all back.
``build`` now stores each distinct array once per shard and step (``request_tool_sets``) and
each item's params with the array cut out at a recorded byte offset; ``send`` puts it back,
so the provider receives exactly the bytes it did before.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The top-level key the array follows. Params are serialised with ``model`` first and
#: ``tool_choice`` right before ``tools``, so the first occurrence is this key: a JSON string
#: cannot hold an unescaped quote, and no earlier value has a ``tools`` member.
TOOLS_KEY = b',"tools":'


@dataclass(frozen=True)
class StoredRequest:
    """One request's params as stored, and the shared array that completes them."""

    body: bytes
    """The params as compact JSON, without the ``tools`` value when ``tools_id`` is set."""
    tools_id: str | None = None
    """SHA-256 of the shared ``tools`` array, hex (``build`` derives its row id from it)."""
    tools: bytes | None = None
    """The shared array's JSON; None when the params carry no ``tools``."""
    tools_at: int | None = None
    """Byte offset in ``body`` where the array goes back."""

    @property
    def size(self) -> int:
        """Size of the params the provider receives."""
        return len(self.body) + len(self.tools or b"")

    def params(self) -> bytes:
        """The params exactly as the provider receives them."""
        return join_tools(self.body, self.tools, self.tools_at)


def split_tools(params: bytes, placeholder: bytes, tools_id: str, tools: bytes) -> StoredRequest:
    """``params`` serialised with ``placeholder`` as the ``tools`` value, stored without it."""
    at = params.index(TOOLS_KEY) + len(TOOLS_KEY)
    if params[at : at + len(placeholder)] != placeholder:
        raise ValueError(f"tools: expected the placeholder at byte {at} of the params")
    body = params[:at] + params[at + len(placeholder) :]
    return StoredRequest(body=body, tools_id=tools_id, tools=tools, tools_at=at)


def join_tools(body: bytes, tools: bytes | None, at: int | None) -> bytes:
    """Stored params with their shared ``tools`` array put back (as they were if none)."""
    if tools is None or at is None:
        return body
    return b"".join((body[:at], tools, body[at:]))
