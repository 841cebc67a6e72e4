"""Tool results in Letta's shape, its return-value stringification and truncation note.

Every tool path (built-in or sandboxed) produces a :class:`ToolResult`; the step that writes
the tool-return message uses ``func_response`` (the string the model sees) and ``status``.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from letta_batch.schemas.tool import FUNCTION_RETURN_CHAR_LIMIT

#: Letta's ERROR_MESSAGE_PREFIX and MAX_ERROR_MESSAGE_CHAR_LIMIT.
ERROR_MESSAGE_PREFIX = "Error"
MAX_ERROR_MESSAGE_CHAR_LIMIT = 1000


def truncation_note(text: str, limit: int) -> str:
    """Letta's ``FUNCTION_RETURN_VALUE_TRUNCATED``: the first ``limit`` characters plus a note.

    ``sandbox_child.py`` carries a copy of this (it cannot import the package); a test keeps
    the two identical.
    """
    return (
        f"{text[:limit]}... [NOTE: function output was truncated since it exceeded the "
        f"character limit: {len(text)} > {limit}]"
    )


def stringify_return(value: Any) -> str:
    """The text the model sees for a return value (Letta's ``validate_function_response``).

    ``None`` becomes ``"None"``, strings pass through, dicts and lists become JSON (non-ASCII
    kept), anything else ``str()``.
    """
    if isinstance(value, str):
        return value
    if value is None:
        return "None"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def cap(text: str, limit: int) -> str:
    """``text`` unchanged when within ``limit``, else Letta's truncated form."""
    return text if len(text) <= limit else truncation_note(text, limit)


def friendly_error_msg(function_name: str, exception_name: str, exception_message: str) -> str:
    """Letta's ``get_friendly_error_msg``: ``Error executing function {name}: {Exc}: {msg}``."""
    msg = f"{ERROR_MESSAGE_PREFIX} executing function {function_name}: {exception_name}: {exception_message}"
    return msg[:MAX_ERROR_MESSAGE_CHAR_LIMIT]


class ToolResult(BaseModel):
    """Outcome of one tool call (Letta's ``ToolExecutionResult`` plus batch bookkeeping)."""

    status: Literal["success", "error"]
    func_return: Any = None
    """The tool's return value (JSON-compatible) or, on error, the error text."""
    func_response: str = "None"
    """What the model sees: ``func_return`` stringified and capped at the tool's
    ``return_char_limit`` with Letta's truncation note."""
    stdout: list[str] | None = None
    stderr: list[str] | None = None
    retryable: bool = False
    """Always False on returned results: retryable failures raise ``ToolSandboxError``."""
    memory_changed: bool = False
    """The call changed core memory or archival memory (the system prompt needs recompiling)."""
    changed_block_ids: list[str] = Field(default_factory=list)
    """Blocks whose value this call changed (built-in memory tools only)."""

    @property
    def success_flag(self) -> bool:
        return self.status == "success"

    @classmethod
    def ok(
        cls,
        value: Any,
        *,
        limit: int = FUNCTION_RETURN_CHAR_LIMIT,
        stdout: list[str] | None = None,
        stderr: list[str] | None = None,
    ) -> ToolResult:
        """A success whose response is ``value`` stringified and capped at ``limit``."""
        return cls(
            status="success",
            func_return=value,
            func_response=cap(stringify_return(value), limit),
            stdout=stdout,
            stderr=stderr,
        )

    @classmethod
    def error(
        cls,
        message: str,
        *,
        limit: int = FUNCTION_RETURN_CHAR_LIMIT,
        stdout: list[str] | None = None,
        stderr: list[str] | None = None,
    ) -> ToolResult:
        """A non-retryable failure whose response is ``message``."""
        return cls(
            status="error",
            func_return=message,
            func_response=cap(message, limit),
            stdout=stdout,
            stderr=stderr,
        )

    @classmethod
    def from_exception(
        cls, function_name: str, exc: BaseException, *, limit: int = FUNCTION_RETURN_CHAR_LIMIT
    ) -> ToolResult:
        """A built-in tool's failure as Letta's core executor reports it.

        The response is ``str(exc)`` (e.g. ``Error This block is read-only and cannot be
        edited.``); stderr carries the ``Error executing function …`` form.
        """
        friendly = friendly_error_msg(function_name, type(exc).__name__, str(exc))
        return cls.error(str(exc), limit=limit, stderr=[friendly])


class ToolSandboxError(Exception):
    """The sandbox failed to produce a result (crash, resource limit, timeout).

    Unlike a tool raising (a normal error result), this says nothing about the tool's logic:
    the Temporal activity retries it per the tool's ``ToolExecutionPolicy`` when ``retryable``.
    """

    def __init__(self, reason: str, *, retryable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
