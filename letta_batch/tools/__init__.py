"""Tool execution: built-in tools in bulk against the database, custom tools in a sandbox.

See ``docs/tools.md`` for semantics, error texts and guarantees.
"""

from letta_batch.tools.builtin import (
    BUILTIN_TOOL_NAMES,
    BuiltinCall,
    BuiltinExecution,
    CallKey,
    MemoryWriteConflict,
    builtin_json_schema,
    builtin_tool,
    builtin_tools,
    execute_builtin_calls,
    is_builtin_tool,
)
from letta_batch.tools.results import ToolResult, ToolSandboxError, friendly_error_msg
from letta_batch.tools.sandbox import IDEMPOTENCY_ENV_VAR, run_custom_tool
from letta_batch.tools.validation import validate_args, validate_tool_args

__all__ = [
    "BUILTIN_TOOL_NAMES",
    "IDEMPOTENCY_ENV_VAR",
    "BuiltinCall",
    "BuiltinExecution",
    "CallKey",
    "MemoryWriteConflict",
    "ToolResult",
    "ToolSandboxError",
    "builtin_json_schema",
    "builtin_tool",
    "builtin_tools",
    "execute_builtin_calls",
    "friendly_error_msg",
    "is_builtin_tool",
    "run_custom_tool",
    "validate_args",
    "validate_tool_args",
]
