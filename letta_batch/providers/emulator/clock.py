"""Controllable clock, timestamp formatting and id minting for the emulator."""

from __future__ import annotations

import hashlib
import secrets
import string
from datetime import UTC, datetime, timedelta

_ALPHABET = string.digits + string.ascii_letters  # base62, like the live ids


class Clock:
    """Wall-clock time plus an adjustable offset.

    Tests advance the offset (admin endpoint) instead of sleeping, which drives expiry (24 h),
    archival (29 days) and processing deadlines deterministically.
    """

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        """Current emulated time (UTC, aware)."""
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> datetime:
        """Move emulated time forward (negative values are refused: time is monotonic)."""
        if seconds < 0:
            raise ValueError("the emulated clock only moves forward")
        self.offset += timedelta(seconds=seconds)
        return self.now()

    def reset(self) -> None:
        """Back to real time."""
        self.offset = timedelta(0)


def rfc3339(value: datetime | None) -> str | None:
    """RFC 3339 UTC with microseconds and a `Z`, as the live API prints timestamps."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _base62(raw: bytes, length: int) -> str:
    num = int.from_bytes(raw, "big")
    out = []
    for _ in range(length):
        num, rem = divmod(num, 62)
        out.append(_ALPHABET[rem])
    return "".join(out)


def new_id(prefix: str) -> str:
    """A fresh random id: prefix + "01" + 22 base62 chars (24 chars, like live examples)."""
    return f"{prefix}01{_base62(secrets.token_bytes(24), 22)}"


def derived_id(prefix: str, *parts: str) -> str:
    """A deterministic id of the same shape, derived from `parts` (used inside results)."""
    digest = hashlib.sha256("\x00".join(parts).encode()).digest()
    return f"{prefix}01{_base62(digest, 22)}"


def stable_fraction(*parts: str) -> float:
    """A deterministic number in [0, 1) derived from `parts` (per-request dice)."""
    digest = hashlib.sha256("\x00".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
