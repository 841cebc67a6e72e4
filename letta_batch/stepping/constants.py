"""Letta's stepping constants (spec §6) and the function-return truncation helper.

Texts are Letta's exactly: models trained on Letta prompts see the same words here.
"""

from __future__ import annotations

from letta_batch.schemas.agent import DEFAULT_TIMEZONE
from letta_batch.schemas.tool import FUNCTION_RETURN_CHAR_LIMIT

REQUEST_HEARTBEAT_PARAM = "request_heartbeat"
"""Tool argument the model sets to ask for another step after the tool runs."""

REQUEST_HEARTBEAT_DESCRIPTION = (
    "Request an immediate heartbeat after function execution. You MUST set this value to "
    "`True` if you want to send a follow-up message or run a follow-up tool call (chain "
    "multiple tools together). If set to `False` (the default), then the chain of execution "
    "will end immediately after this function call."
)
"""Schema description of ``request_heartbeat`` (Letta's exact text)."""

NON_USER_MSG_PREFIX = "[This is an automated system message hidden from the user] "
"""Prefix of every system-generated user-role message."""

REQ_HEARTBEAT_MESSAGE = (
    f"{NON_USER_MSG_PREFIX}Function called using request_heartbeat=true, returning control"
)
"""Heartbeat reason after a successful tool call that continues the loop."""

FUNC_FAILED_HEARTBEAT_MESSAGE = f"{NON_USER_MSG_PREFIX}Function call failed, returning control"
"""Heartbeat reason after a failed (or refused) tool call that continues the loop."""

INNER_THOUGHTS_KWARG = "thinking"
"""Tool argument carrying inner thoughts when ``put_inner_thoughts_in_kwargs`` is on."""

INNER_THOUGHTS_DESCRIPTION = "Deep inner monologue private to you only."
"""Schema description of the inner-thoughts argument."""

IN_CONTEXT_MEMORY_KEYWORD = "CORE_MEMORY"
"""Name of the system-prompt variable that receives the compiled memory."""

CORE_MEMORY_PLACEHOLDER = "{" + IN_CONTEXT_MEMORY_KEYWORD + "}"
"""``{CORE_MEMORY}`` as it appears in a system prompt template."""

DEFAULT_CONVERSATION_ID = "default"
"""``CONVERSATION_ID`` shown in the memory metadata (batch always uses the default)."""

LOCAL_TIME_FORMAT = "%Y-%m-%d %I:%M:%S %p %Z%z"
"""Letta's ``get_local_time`` format, e.g. ``2025-06-01 03:04:05 PM UTC+0000``."""

KNOWN_STOP_REASONS = frozenset({"end_turn", "stop_sequence", "max_tokens", "tool_use"})
"""Anthropic stop reasons Letta maps; any other one fails the agent (``unknown_stop_reason``)."""

NO_TRUNCATE_TOOLS = frozenset(
    {"conversation_search", "conversation_search_date", "archival_memory_search"}
)
"""Tools whose returns Letta never truncates (search results page themselves)."""

TRUNCATION_NOTE = (
    "{s}... [NOTE: function output was truncated since it exceeded the character limit: "
    "{length} > {limit}]"
)
"""Letta's truncation text; ``s`` is the first ``limit`` characters."""


def truncate_function_return(text: str, limit: int | None) -> str:
    """Letta's truncation: keep ``limit`` characters and append the note when longer.

    ``None`` (or a negative limit) means no limit.
    """
    if limit is None or limit < 0 or len(text) <= limit:
        return text
    return TRUNCATION_NOTE.format(s=text[:limit], length=len(text), limit=limit)


__all__ = [
    "CORE_MEMORY_PLACEHOLDER",
    "DEFAULT_CONVERSATION_ID",
    "DEFAULT_TIMEZONE",
    "FUNCTION_RETURN_CHAR_LIMIT",
    "FUNC_FAILED_HEARTBEAT_MESSAGE",
    "INNER_THOUGHTS_DESCRIPTION",
    "INNER_THOUGHTS_KWARG",
    "IN_CONTEXT_MEMORY_KEYWORD",
    "KNOWN_STOP_REASONS",
    "LOCAL_TIME_FORMAT",
    "NON_USER_MSG_PREFIX",
    "NO_TRUNCATE_TOOLS",
    "REQUEST_HEARTBEAT_DESCRIPTION",
    "REQUEST_HEARTBEAT_PARAM",
    "REQ_HEARTBEAT_MESSAGE",
    "TRUNCATION_NOTE",
    "truncate_function_return",
]
