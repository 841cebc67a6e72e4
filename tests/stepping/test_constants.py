"""Constants, truncation and local-time formatting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from letta_batch.stepping import format_local_time
from letta_batch.stepping.constants import (
    FUNCTION_RETURN_CHAR_LIMIT,
    NON_USER_MSG_PREFIX,
    REQUEST_HEARTBEAT_DESCRIPTION,
    truncate_function_return,
)

NOW = datetime(2025, 6, 1, 15, 4, 5, tzinfo=UTC)


def test_letta_texts() -> None:
    assert NON_USER_MSG_PREFIX == "[This is an automated system message hidden from the user] "
    assert REQUEST_HEARTBEAT_DESCRIPTION.startswith(
        "Request an immediate heartbeat after function execution."
    )
    assert REQUEST_HEARTBEAT_DESCRIPTION.endswith("will end immediately after this function call.")
    assert FUNCTION_RETURN_CHAR_LIMIT == 50_000


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("abc", 3, "abc"),
        (
            "abcdef",
            3,
            "abc... [NOTE: function output was truncated since it exceeded the character limit: 6 > 3]",
        ),
        ("abcdef", None, "abcdef"),
        ("", 0, ""),
    ],
)
def test_truncate_function_return(text: str, limit: int | None, expected: str) -> None:
    assert truncate_function_return(text, limit) == expected


@pytest.mark.parametrize(
    ("now", "tz", "expected"),
    [
        (NOW, "UTC", "2025-06-01 03:04:05 PM UTC+0000"),
        (NOW, None, "2025-06-01 03:04:05 PM UTC+0000"),
        (NOW, "America/Los_Angeles", "2025-06-01 08:04:05 AM PDT-0700"),
        (NOW, "Asia/Kolkata", "2025-06-01 08:34:05 PM IST+0530"),
        (NOW.replace(tzinfo=None), "UTC", "2025-06-01 03:04:05 PM UTC+0000"),
        (NOW, "Not/AZone", "2025-06-01 03:04:05 PM UTC+0000"),
    ],
)
def test_format_local_time(now: datetime, tz: str | None, expected: str) -> None:
    assert format_local_time(now, tz) == expected


def test_format_local_time_remembers_only_what_decides_the_text() -> None:
    """Formatting is remembered per (instant, zone): the same instant written with another
    offset, or asked for in another zone, still gives its own correct text."""
    from datetime import timedelta, timezone

    same_instant = NOW.astimezone(timezone(timedelta(hours=2)))
    assert same_instant == NOW
    for _ in range(2):  # the second round answers from the cache
        assert format_local_time(NOW, "UTC") == "2025-06-01 03:04:05 PM UTC+0000"
        assert format_local_time(same_instant, "UTC") == "2025-06-01 03:04:05 PM UTC+0000"
        assert format_local_time(NOW, "Asia/Kolkata") == "2025-06-01 08:34:05 PM IST+0530"
        later = NOW + timedelta(seconds=1)
        assert format_local_time(later, "UTC") == "2025-06-01 03:04:06 PM UTC+0000"
