"""System prompt compile (memory blocks, tool-rule block, metadata). Pure: no I/O, no clock."""

from letta_batch.context.memory import (
    CORE_MEMORY_LINE_NUMBER_WARNING,
    compile_memory,
    render_memory_blocks,
    render_tool_usage_rules,
    uses_line_numbers,
)
from letta_batch.context.system_prompt import (
    compile_system_message,
    memory_metadata,
    needs_rebuild,
    rebuild_system_prompt,
)

__all__ = [
    "CORE_MEMORY_LINE_NUMBER_WARNING",
    "compile_memory",
    "compile_system_message",
    "memory_metadata",
    "needs_rebuild",
    "rebuild_system_prompt",
    "render_memory_blocks",
    "render_tool_usage_rules",
    "uses_line_numbers",
]
