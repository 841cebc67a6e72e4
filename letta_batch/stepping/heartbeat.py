"""Heartbeats and Letta's ``system.py`` packaging: local time, JSON, function returns.

``now`` is always passed in: nothing here reads a clock, so workflow code and retried
activities produce byte-identical messages.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from letta_batch import ids
from letta_batch.schemas.enums import MessageRole
from letta_batch.schemas.message import Message, TextContent
from letta_batch.stepping.constants import (
    DEFAULT_TIMEZONE,
    FUNC_FAILED_HEARTBEAT_MESSAGE,
    LOCAL_TIME_FORMAT,
    NON_USER_MSG_PREFIX,
    REQ_HEARTBEAT_MESSAGE,
)

logger = logging.getLogger(__name__)

HEARTBEAT_SLOT = "heartbeat"
"""Slot of the heartbeat in ``derived_id("message", item_id, slot)``."""


class HeartbeatKind(StrEnum):
    """Why the loop continues, which picks the heartbeat's ``reason`` text."""

    normal = "normal"  # tool succeeded (or rules force continuation)
    failure = "failure"  # tool failed or the call was refused
    required_tools = "required_tools"  # required-before-exit tools are still uncalled


def _zone(timezone: str | None) -> tzinfo:
    name = timezone or DEFAULT_TIMEZONE
    if name.upper() == "UTC":
        return UTC  # no tz database needed for the common case
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # Letta raises here; a bad stored timezone must not fail a whole batch step.
        logger.warning("unknown timezone %r; formatting in UTC", name)
        return UTC


def format_local_time(now: datetime, timezone: str | None) -> str:
    """Letta's ``get_local_time``: ``now`` in ``timezone`` as ``%Y-%m-%d %I:%M:%S %p %Z%z``.

    A naive ``now`` is taken as UTC. ``timezone=None`` means UTC (Letta would use the
    server's local zone, which is not deterministic). Unknown zones fall back to UTC.
    """
    return _local_time(now, timezone)


@functools.lru_cache(maxsize=256)
def _local_time(now: datetime, timezone: str | None) -> str:
    # A phase stamps every message of a chunk with one ``now``, and a fleet has a handful of
    # zones: formatting (zone conversion and strftime) once per pair saves ~15 µs a message.
    aware = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return aware.astimezone(_zone(timezone)).strftime(LOCAL_TIME_FORMAT).strip()


def _strip_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_strip_nul(k): _strip_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strip_nul(v) for v in value]
    return value


def _default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, bytes):
        return obj.decode("utf-8", errors="replace")
    raise TypeError(f"Type {type(obj)} not serializable")


def json_dumps(data: Any, indent: int | None = 2) -> str:
    """Letta's ``json_dumps``: indent 2, non-ASCII kept, NUL bytes removed (PostgreSQL
    text columns reject them), datetimes as ISO strings.

    Plain JSON (string keys; strings, ints, bools, None, lists, dicts) goes through orjson,
    whose indented output is byte-identical to ``json.dumps(indent=2, ensure_ascii=False)``
    for those values (tested); anything else (floats, whose repr differs, datetimes, odd
    keys) through the standard library, as Letta does.
    """
    cleaned = _strip_nul(data)
    if indent == 2 and _plain(cleaned):
        with contextlib.suppress(orjson.JSONEncodeError):  # e.g. lone surrogates
            return orjson.dumps(cleaned, option=orjson.OPT_INDENT_2).decode()
    return json.dumps(cleaned, indent=indent, default=_default, ensure_ascii=False)


def _plain(value: Any) -> bool:
    if value is None or type(value) in (str, int, bool):
        return type(value) is not int or -(2**63) <= value < 2**64
    if type(value) is dict:
        return all(type(k) is str and _plain(v) for k, v in value.items())
    if type(value) is list:
        return all(_plain(v) for v in value)
    return False


def package_function_response(
    succeeded: bool, func_return: Any, now: datetime, timezone: str | None
) -> str:
    """Letta's ``package_function_response``: ``{"status": "OK"|"Failed", "message", "time"}``."""
    return json_dumps(
        {
            "status": "OK" if succeeded else "Failed",
            "message": func_return,
            "time": format_local_time(now, timezone),
        }
    )


def heartbeat_reason(kind: HeartbeatKind, uncalled_required_tools: Sequence[str] = ()) -> str:
    """The ``reason`` text of a heartbeat.

    ``required_tools`` uses the text of Letta's non-batch loop (``LettaAgent``), which is
    where required-before-exit is enforced; batch Letta ignores the rule (§8.9).
    """
    if kind is HeartbeatKind.required_tools:
        names = ", ".join(uncalled_required_tools)
        return f"{NON_USER_MSG_PREFIX}Continuing, user expects these tools: [{names}] to be called still."
    if kind is HeartbeatKind.failure:
        return FUNC_FAILED_HEARTBEAT_MESSAGE
    return REQ_HEARTBEAT_MESSAGE


def heartbeat_text(reason: str, now: datetime, timezone: str | None) -> str:
    """Letta's ``get_heartbeat`` JSON: ``{"type": "heartbeat", "reason", "time"}``."""
    return json_dumps(
        {"type": "heartbeat", "reason": reason, "time": format_local_time(now, timezone)}
    )


def heartbeat_message(
    agent_id: str,
    item_id: str,
    step: int,
    kind: HeartbeatKind,
    now: datetime,
    timezone: str | None,
    uncalled_required_tools: Sequence[str] = (),
    *,
    organization_id: str | None = None,
    model: str | None = None,
) -> Message:
    """The user-role heartbeat that becomes the next step's input.

    Its id is ``derived_id("message", item_id, "heartbeat")``, so persisting twice is a no-op.
    """
    text = heartbeat_text(heartbeat_reason(kind, uncalled_required_tools), now, timezone)
    return Message(
        id=ids.derived_id(ids.MESSAGE, item_id, HEARTBEAT_SLOT),
        agent_id=agent_id,
        organization_id=organization_id,
        role=MessageRole.user,
        content=[TextContent(text=text)],
        model=model,
        batch_item_id=item_id,
        step=step,
        created_at=now,
    )
