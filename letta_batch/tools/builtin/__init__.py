"""Built-in (Letta core/memory/sleeptime) tools, executed natively and in bulk."""

from letta_batch.schemas.enums import BUILTIN_TOOL_TYPES
from letta_batch.schemas.tool import Tool
from letta_batch.tools.builtin.executor import (
    BuiltinCall,
    BuiltinExecution,
    CallKey,
    MemoryWriteConflict,
    execute_builtin_calls,
)
from letta_batch.tools.builtin.schemas import (
    BUILTIN_TOOL_NAMES,
    builtin_json_schema,
    builtin_tool,
    builtin_tools,
)


def is_builtin_tool(tool: Tool) -> bool:
    """True when ``tool`` runs natively: a Letta core/memory/sleeptime tool this package
    implements, or the legacy ``rethink_memory`` (custom in Letta, special-cased as there)."""
    if tool.name == "rethink_memory":
        return True
    return tool.tool_type in BUILTIN_TOOL_TYPES and tool.name in BUILTIN_TOOL_NAMES


__all__ = [
    "BUILTIN_TOOL_NAMES",
    "BuiltinCall",
    "BuiltinExecution",
    "CallKey",
    "MemoryWriteConflict",
    "builtin_json_schema",
    "builtin_tool",
    "builtin_tools",
    "execute_builtin_calls",
    "is_builtin_tool",
]
