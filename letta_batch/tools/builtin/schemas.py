"""Letta's built-in tool definitions (names, types, JSON schemas) for seeding and tests.

The schemas are the definitions' base tool schemas (``letta_batch.definitions.base_tools``),
plus the legacy ``rethink_memory``. As in Letta since #2501, they have no ``request_heartbeat``.
"""

from __future__ import annotations

import copy
from typing import Any

from letta_batch import ids
from letta_batch.definitions.base_tools import BASE_TOOL_SCHEMAS, BASE_TOOL_TYPES
from letta_batch.schemas.enums import ToolType
from letta_batch.schemas.tool import Tool

#: Letta's legacy ``rethink_memory`` (a custom tool Letta's batch path special-cased); it runs
#: natively here too. Every other built-in comes from the definitions' base tool schemas, the
#: single source of the schemas agents are loaded with.
_RETHINK_MEMORY = {
    "name": "rethink_memory",
    "description": "Rewrite a memory block (legacy; prefer memory_rethink).",
    "parameters": {
        "type": "object",
        "properties": {
            "new_memory": {"type": "string", "description": "The new memory contents."},
            "target_block_label": {
                "type": "string",
                "description": "The name of the block to write to.",
            },
        },
        "required": ["new_memory", "target_block_label"],
    },
}

_SCHEMAS: dict[str, dict[str, Any]] = {**BASE_TOOL_SCHEMAS, "rethink_memory": _RETHINK_MEMORY}
_TYPES: dict[str, ToolType] = {**BASE_TOOL_TYPES, "rethink_memory": ToolType.custom}

#: Every tool name executed natively (set-based) rather than in the sandbox.
BUILTIN_TOOL_NAMES = frozenset(_SCHEMAS)


def builtin_json_schema(name: str) -> dict[str, Any]:
    """Letta's ``{name, description, parameters}`` schema of a built-in tool."""
    return copy.deepcopy(_SCHEMAS[name])


def builtin_tool(name: str, org_id: str) -> Tool:
    """The built-in tool ``name`` for ``org_id`` (deterministic id, so seeding is idempotent)."""
    schema = builtin_json_schema(name)
    return Tool(
        id=ids.derived_id(ids.TOOL, org_id, name),
        name=name,
        tool_type=_TYPES[name],
        description=schema.get("description"),
        json_schema=builtin_json_schema(name),
        organization_id=org_id,
    )


def builtin_tools(org_id: str) -> list[Tool]:
    """All built-in tools for ``org_id``."""
    return [builtin_tool(name, org_id) for name in sorted(_SCHEMAS)]
