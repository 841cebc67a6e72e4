"""Letta's base tools: JSON schemas, tool types, per-agent-type sets and default rules.

Descriptions are adapted from the docstrings in Letta's ``functions/function_sets/base.py``
(spec §6). Like Letta since #2501 the stored schemas carry no ``request_heartbeat``; the
request builder injects it at request time. Argument names follow spec §6 (``memory_replace``
takes ``old_string``/``new_string``, ``memory_insert`` takes ``new_string``).
"""

from __future__ import annotations

import functools
from typing import Any

from letta_batch.schemas import AgentType, ToolType
from letta_batch.tool_rules import ContinueToolRule, TerminalToolRule, ToolRule

_STR: dict[str, Any] = {"type": "string"}
_LABEL = {
    "type": "string",
    "description": "Section of the memory to be edited, identified by its label.",
}


def _schema(name: str, description: str, props: dict[str, Any], required: list[str]) -> dict:
    return {
        "name": name,
        "description": description,
        "parameters": {"type": "object", "properties": props, "required": required},
    }


_DATE_HELP = (
    'ISO 8601 format: "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM". A date-only value covers the whole day.'
)

BASE_TOOL_SCHEMAS: dict[str, dict[str, Any]] = {
    "send_message": _schema(
        "send_message",
        "Sends a message to the human user.",
        {
            "message": {
                **_STR,
                "description": "Message contents. All unicode (including emojis) are supported.",
            }
        },
        ["message"],
    ),
    "conversation_search": _schema(
        "conversation_search",
        "Search prior conversation history (your recall memory) by text.",
        {
            "query": {
                **_STR,
                "description": "String to search for. If not provided, returns messages "
                "based on the other filters (time range, roles).",
            },
            "roles": {
                "type": "array",
                "items": {"type": "string", "enum": ["assistant", "user", "tool"]},
                "description": "Optional list of message roles to filter by.",
            },
            "limit": {
                "type": "integer",
                "description": "Maximum number of results to return. Uses the system "
                "default (5) if not specified.",
            },
            "start_date": {
                **_STR,
                "description": "Only messages created on or after this date (INCLUSIVE). "
                + _DATE_HELP,
            },
            "end_date": {
                **_STR,
                "description": "Only messages created on or before this date (INCLUSIVE). "
                + _DATE_HELP,
            },
        },
        [],
    ),
    "archival_memory_insert": _schema(
        "archival_memory_insert",
        "Add information to long-term archival memory for later retrieval. Use it to store "
        "self-contained facts, knowledge, or context you want to remember across all future "
        "conversations. Archival memory is permanent and searchable.",
        {
            "content": {
                **_STR,
                "description": "The information to store. Should be clear and self-contained.",
            },
            "tags": {
                "type": "array",
                "items": {"type": "string"},
                "description": 'Optional list of category tags (e.g., ["meetings", '
                '"project-updates"]).',
            },
        },
        ["content"],
    ),
    "archival_memory_search": _schema(
        "archival_memory_search",
        "Search archival memory to find relevant information you stored earlier. Use tags "
        "to narrow results when you know the category.",
        {
            "query": {**_STR, "description": "What you're looking for, described naturally."},
            "tags": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Filter to memories with these tags (see tag_match_mode).",
            },
            "tag_match_mode": {
                "type": "string",
                "enum": ["any", "all"],
                "description": '"any" = memories with ANY of the tags, "all" = only memories '
                "with ALL tags.",
            },
            "top_k": {
                "type": "integer",
                "description": "Maximum number of results to return (default: 5).",
            },
            "start_datetime": {
                **_STR,
                "description": "Only memories created after this time (ISO 8601).",
            },
            "end_datetime": {
                **_STR,
                "description": "Only memories created before this time (ISO 8601).",
            },
        },
        ["query"],
    ),
    "core_memory_append": _schema(
        "core_memory_append",
        "Append to the contents of core memory.",
        {
            "label": {**_STR, "description": "Section of the memory to be edited."},
            "content": {
                **_STR,
                "description": "Content to write to the memory. All unicode (including "
                "emojis) are supported.",
            },
        },
        ["label", "content"],
    ),
    "core_memory_replace": _schema(
        "core_memory_replace",
        "Replace the contents of core memory. To delete memories, use an empty string for "
        "new_content.",
        {
            "label": {**_STR, "description": "Section of the memory to be edited."},
            "old_content": {**_STR, "description": "String to replace. Must be an exact match."},
            "new_content": {
                **_STR,
                "description": "Content to write to the memory. All unicode (including "
                "emojis) are supported.",
            },
        },
        ["label", "old_content", "new_content"],
    ),
    "memory_replace": _schema(
        "memory_replace",
        "Replace a specific string in a memory block with a new string. Used for precise "
        "edits; do NOT replace long strings such as the entire contents of a block.",
        {
            "label": _LABEL,
            "old_string": {
                **_STR,
                "description": "The text to replace (must match exactly, including whitespace "
                "and indentation, and occur exactly once).",
            },
            "new_string": {
                **_STR,
                "description": "The new text to insert in place of the old text. Do not "
                "include line number prefixes.",
            },
        },
        ["label", "old_string", "new_string"],
    ),
    "memory_insert": _schema(
        "memory_insert",
        "Insert text at a specific location in a memory block.",
        {
            "label": _LABEL,
            "new_string": {
                **_STR,
                "description": "The text to insert. Do not include line number prefixes.",
            },
            "insert_line": {
                "type": "integer",
                "description": "The line number after which to insert the text (0 for the "
                "beginning). Defaults to -1 (the end).",
            },
        },
        ["label", "new_string"],
    ),
    "memory_rethink": _schema(
        "memory_rethink",
        "Completely rewrite the contents of a memory block. Use it for large sweeping changes "
        "(e.g. to condense or reorganize a block), not for small precise edits.",
        {
            "label": {
                **_STR,
                "description": "The memory block to be rewritten, identified by its label.",
            },
            "new_memory": {
                **_STR,
                "description": "The new memory contents with information integrated from "
                "existing memory blocks and the conversation context.",
            },
        },
        ["label", "new_memory"],
    ),
    "memory_finish_edits": _schema(
        "memory_finish_edits",
        "Call when you are finished making edits (integrating all new information) into the "
        "memory blocks.",
        {},
        [],
    ),
}
"""Base tool name → Letta-shaped ``json_schema`` (no ``request_heartbeat``)."""

BASE_TOOL_TYPES: dict[str, ToolType] = {
    "send_message": ToolType.letta_core,
    "conversation_search": ToolType.letta_core,
    "archival_memory_insert": ToolType.letta_core,
    "archival_memory_search": ToolType.letta_core,
    "core_memory_append": ToolType.letta_memory_core,
    "core_memory_replace": ToolType.letta_memory_core,
    "memory_replace": ToolType.letta_sleeptime_core,
    "memory_insert": ToolType.letta_sleeptime_core,
    "memory_rethink": ToolType.letta_sleeptime_core,
    "memory_finish_edits": ToolType.letta_sleeptime_core,
}

_CORE = ["send_message", "conversation_search", "archival_memory_insert", "archival_memory_search"]
MEMGPT_BASE_TOOLS = [*_CORE, "core_memory_append", "core_memory_replace"]
"""Base tools of ``memgpt_agent`` (Letta's v1 memory tools)."""
V2_BASE_TOOLS = [*_CORE, "memory_replace", "memory_insert", "memory_rethink", "memory_finish_edits"]
"""Base tools of every other agent type (``memgpt_v2_agent`` and the rest)."""

TERMINAL_BASE_TOOLS = frozenset({"send_message", "memory_finish_edits"})
"""Base tools that end the loop by default (Letta's TerminalToolRule defaults)."""


def base_tools_for(agent_type: AgentType) -> list[str]:
    """Base tools attached when ``include_base_tools`` is true."""
    return list(MEMGPT_BASE_TOOLS if agent_type == AgentType.memgpt_agent else V2_BASE_TOOLS)


@functools.cache
def _default_rule(name: str) -> ToolRule:
    # Rules are frozen, so one instance per tool can be shared by every agent.
    if name in TERMINAL_BASE_TOOLS:
        return TerminalToolRule(tool_name=name)
    return ContinueToolRule(tool_name=name)


def default_rules(base_tools: list[str], user_rules: list[ToolRule]) -> list[ToolRule]:
    """Letta's default rules: terminal for send_message/memory_finish_edits, continue for every
    other base tool, skipping tools the agent already has a rule for."""
    covered = {rule.tool_name for rule in user_rules}
    return [_default_rule(name) for name in base_tools if name not in covered]
