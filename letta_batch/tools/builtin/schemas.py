"""Letta's built-in tool definitions (names, types, JSON schemas) for seeding and tests.

Schemas follow the docstrings of Letta's ``functions/function_sets/base.py`` (descriptions
shortened). As in Letta since #2501, the stored schemas have no ``request_heartbeat``.
"""

from __future__ import annotations

from typing import Any

from letta_batch import ids
from letta_batch.schemas.enums import ToolType
from letta_batch.schemas.tool import Tool

_S = {"type": "string"}
_LABEL = {"type": "string", "description": "Section of the memory to be edited, by label."}

_DEFS: dict[str, tuple[ToolType, str, dict[str, Any], list[str]]] = {
    "send_message": (
        ToolType.letta_core,
        "Sends a message to the human user.",
        {"message": {**_S, "description": "Message contents. All unicode is supported."}},
        ["message"],
    ),
    "conversation_search": (
        ToolType.letta_core,
        "Search prior conversation history (text search; dates inclusive).",
        {
            "query": {**_S, "description": "String to search for."},
            "roles": {
                "type": "array",
                "items": {"type": "string", "enum": ["assistant", "user", "tool"]},
                "description": "Optional list of message roles to filter by.",
            },
            "limit": {"type": "integer", "description": "Maximum number of results."},
            "start_date": {**_S, "description": "Inclusive start, YYYY-MM-DD[THH:MM]."},
            "end_date": {**_S, "description": "Inclusive end, YYYY-MM-DD[THH:MM]."},
        },
        [],
    ),
    "archival_memory_insert": (
        ToolType.letta_core,
        "Add information to long-term archival memory for later retrieval.",
        {
            "content": {**_S, "description": "The information to store."},
            "tags": {"type": "array", "items": _S, "description": "Optional category tags."},
        },
        ["content"],
    ),
    "archival_memory_search": (
        ToolType.letta_core,
        "Search archival memory.",
        {
            "query": {**_S, "description": "What you are looking for."},
            "tags": {"type": "array", "items": _S, "description": "Filter by these tags."},
            "tag_match_mode": {"type": "string", "enum": ["any", "all"]},
            "top_k": {"type": "integer", "description": "Maximum number of results."},
            "start_datetime": {**_S, "description": "Inclusive start (ISO 8601)."},
            "end_datetime": {**_S, "description": "Inclusive end (ISO 8601)."},
        },
        ["query"],
    ),
    "core_memory_append": (
        ToolType.letta_memory_core,
        "Append to the contents of core memory.",
        {"label": _LABEL, "content": {**_S, "description": "Content to write to the memory."}},
        ["label", "content"],
    ),
    "core_memory_replace": (
        ToolType.letta_memory_core,
        "Replace the contents of core memory. To delete memories, use an empty new_content.",
        {
            "label": _LABEL,
            "old_content": {**_S, "description": "String to replace. Must be an exact match."},
            "new_content": {**_S, "description": "Content to write to the memory."},
        },
        ["label", "old_content", "new_content"],
    ),
    "memory_replace": (
        ToolType.letta_sleeptime_core,
        "Replace a specific, unique string in a memory block with a new string.",
        {
            "label": _LABEL,
            "old_string": {**_S, "description": "The text to replace (exact match)."},
            "new_string": {**_S, "description": "The new text. No line number prefixes."},
        },
        ["label", "old_string", "new_string"],
    ),
    "memory_insert": (
        ToolType.letta_sleeptime_core,
        "Insert text at a specific line of a memory block.",
        {
            "label": _LABEL,
            "new_string": {**_S, "description": "The text to insert. No line number prefixes."},
            "insert_line": {
                "type": "integer",
                "description": "Line after which to insert (0: beginning, -1: end, default).",
            },
        },
        ["label", "new_string"],
    ),
    "memory_rethink": (
        ToolType.letta_sleeptime_core,
        "Completely rewrite the contents of a memory block.",
        {"label": _LABEL, "new_memory": {**_S, "description": "The new memory contents."}},
        ["label", "new_memory"],
    ),
    "memory_finish_edits": (
        ToolType.letta_sleeptime_core,
        "Call when you are finished making edits to the memory blocks.",
        {},
        [],
    ),
    "rethink_memory": (
        ToolType.custom,
        "Rewrite a memory block (legacy; prefer memory_rethink).",
        {
            "new_memory": {**_S, "description": "The new memory contents."},
            "target_block_label": {**_S, "description": "The name of the block to write to."},
        },
        ["new_memory", "target_block_label"],
    ),
}

#: Every tool name executed natively (set-based) rather than in the sandbox.
BUILTIN_TOOL_NAMES = frozenset(_DEFS)


def builtin_json_schema(name: str) -> dict[str, Any]:
    """Letta's ``{name, description, parameters}`` schema of a built-in tool."""
    _, description, properties, required = _DEFS[name]
    return {
        "name": name,
        "description": description,
        "parameters": {"type": "object", "properties": properties, "required": required},
    }


def builtin_tool(name: str, org_id: str) -> Tool:
    """The built-in tool ``name`` for ``org_id`` (deterministic id, so seeding is idempotent)."""
    tool_type, description, _, _ = _DEFS[name]
    return Tool(
        id=ids.derived_id(ids.TOOL, org_id, name),
        name=name,
        tool_type=tool_type,
        description=description,
        json_schema=builtin_json_schema(name),
        organization_id=org_id,
    )


def builtin_tools(org_id: str) -> list[Tool]:
    """All built-in tools for ``org_id``."""
    return [builtin_tool(name, org_id) for name in sorted(_DEFS)]
