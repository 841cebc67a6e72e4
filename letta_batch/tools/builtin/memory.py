"""Core-memory tools, applied in memory to blocks loaded in bulk.

Semantics and texts are Letta's ``LettaCoreToolExecutor`` (commit ``56ba9c255``): every
editing tool first looks the block up (``KeyError`` naming the available labels), refuses
read-only blocks, then the limit check of ``Block`` rejects values longer than ``limit``.
Edits return the new value; ``memory_finish_edits`` and legacy ``rethink_memory`` return None.

Blocks shared by several agents are ONE :class:`MemoryBlock` object referenced from each
agent's :class:`AgentMemory`, so edits applied in sequence see each other's results.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Letta's READ_ONLY_BLOCK_EDIT_ERROR.
READ_ONLY_BLOCK_EDIT_ERROR = "Error This block is read-only and cannot be edited."
#: Letta's CORE_MEMORY_LINE_NUMBER_WARNING (shown above line-numbered block values).
CORE_MEMORY_LINE_NUMBER_WARNING = (
    "# NOTE: Line numbers shown below (with arrows like '1→') are to help during editing. "
    "Do NOT include line number prefixes in your memory edit tool calls."
)
#: Letta's MEMORY_TOOLS_LINE_NUMBER_PREFIX_REGEX ("1→ content" display prefixes).
LINE_NUMBER_PREFIX_REGEX = re.compile(r"^[ \t]*\d+→[ \t]*", re.MULTILINE)


def _prefix_error(param: str) -> ValueError:
    return ValueError(
        f"{param} contains a line number prefix, which is not allowed. Do not include line "
        "numbers when calling memory tools (line numbers are for display purposes only)."
    )


def _warning_error(param: str) -> ValueError:
    return ValueError(
        f"{param} contains a line number warning, which is not allowed. Do not include line "
        "number information when calling memory tools (line numbers are for display purposes "
        "only)."
    )


@dataclass
class MemoryBlock:
    """A block being edited: the loaded row plus its working value."""

    id: str
    label: str
    value: str
    limit: int
    read_only: bool
    version: int
    original_value: str = ""

    def __post_init__(self) -> None:
        self.original_value = self.value

    @property
    def changed(self) -> bool:
        return self.value != self.original_value


@dataclass
class AgentMemory:
    """One agent's view of its blocks (attachment order), recording which blocks it touched."""

    blocks: list[MemoryBlock]
    touched: set[str] = field(default_factory=set)

    def get_block(self, label: str) -> MemoryBlock:
        for block in self.blocks:
            if block.label == label:
                return block
        labels = ", ".join(b.label for b in self.blocks)
        raise KeyError(f"Block field {label} does not exist (available sections = {labels})")

    def update_block_value(self, label: str, value: str) -> None:
        if not isinstance(value, str):
            raise ValueError("Provided value must be a string")
        block = self.get_block(label)
        if len(value) > block.limit:
            raise ValueError(
                f"Edit failed: Exceeds {block.limit} character limit (requested {len(value)})"
            )
        block.value = value
        self.touched.add(block.id)


def _editable(memory: AgentMemory, label: str) -> MemoryBlock:
    block = memory.get_block(label)
    if block.read_only:
        raise ValueError(READ_ONLY_BLOCK_EDIT_ERROR)
    return block


def core_memory_append(memory: AgentMemory, label: str, content: str) -> str:
    block = _editable(memory, label)
    new_value = str(block.value) + "\n" + str(content)
    memory.update_block_value(label, new_value)
    return new_value


def core_memory_replace(memory: AgentMemory, label: str, old_content: str, new_content: str) -> str:
    block = _editable(memory, label)
    current = str(block.value)
    if old_content not in current:
        raise ValueError(f"Old content '{old_content}' not found in memory block '{label}'")
    new_value = current.replace(str(old_content), str(new_content))
    memory.update_block_value(label, new_value)
    return new_value


def memory_replace(memory: AgentMemory, label: str, old_string: str, new_string: str) -> str:
    block = _editable(memory, label)
    if LINE_NUMBER_PREFIX_REGEX.search(old_string):
        raise _prefix_error("old_string")
    if CORE_MEMORY_LINE_NUMBER_WARNING in old_string:
        raise _warning_error("old_string")
    if LINE_NUMBER_PREFIX_REGEX.search(new_string):
        raise _prefix_error("new_string")
    old_string = str(old_string).expandtabs()
    new_string = str(new_string).expandtabs()
    current = str(block.value).expandtabs()
    occurrences = current.count(old_string)
    if occurrences == 0:
        raise ValueError(
            f"No replacement was performed, old_string `{old_string}` did not appear verbatim "
            f"in memory block with label `{label}`."
        )
    if occurrences > 1:
        lines = [i + 1 for i, line in enumerate(current.split("\n")) if old_string in line]
        raise ValueError(
            f"No replacement was performed. Multiple occurrences of old_string `{old_string}` "
            f"in lines {lines}. Please ensure it is unique."
        )
    new_value = current.replace(old_string, new_string)
    memory.update_block_value(label, new_value)
    return new_value


def memory_insert(memory: AgentMemory, label: str, new_string: str, insert_line: int = -1) -> str:
    block = _editable(memory, label)
    if LINE_NUMBER_PREFIX_REGEX.search(new_string):
        raise _prefix_error("new_string")
    if CORE_MEMORY_LINE_NUMBER_WARNING in new_string:
        raise _warning_error("new_string")
    insert_line = int(insert_line)  # JSON may carry 2.0 for an integer argument
    current_lines = str(block.value).expandtabs().split("\n")
    n_lines = len(current_lines)
    if insert_line == -1:
        insert_line = n_lines
    elif insert_line < 0 or insert_line > n_lines:
        raise ValueError(
            f"Invalid `insert_line` parameter: {insert_line}. It should be within the range "
            f"of lines of the memory block: {[0, n_lines]}, or -1 to append to the end of the "
            "memory block."
        )
    new_lines = str(new_string).expandtabs().split("\n")
    new_value = "\n".join(current_lines[:insert_line] + new_lines + current_lines[insert_line:])
    memory.update_block_value(label, new_value)
    return new_value


def memory_rethink(memory: AgentMemory, label: str, new_memory: str) -> str:
    _editable(memory, label)
    if LINE_NUMBER_PREFIX_REGEX.search(new_memory):
        raise _prefix_error("new_memory")
    if CORE_MEMORY_LINE_NUMBER_WARNING in new_memory:
        raise _warning_error("new_memory")
    memory.update_block_value(label, new_memory)
    return new_memory


def memory_finish_edits(memory: AgentMemory) -> None:
    return None


def rethink_memory(memory: AgentMemory, new_memory: str, target_block_label: str) -> None:
    """Legacy custom tool Letta's batch path special-cased (§6). Unlike Letta's bulk path it
    goes through the same read-only and limit checks as every other edit, and shared blocks
    are edited in order instead of last-writer-wins."""
    _editable(memory, target_block_label)
    memory.update_block_value(target_block_label, new_memory)
    return None


MemoryTool = Callable[..., Any]

#: Built-in memory tools by name; each is called as ``fn(agent_memory, **args)``.
MEMORY_TOOLS: dict[str, MemoryTool] = {
    "core_memory_append": core_memory_append,
    "core_memory_replace": core_memory_replace,
    "memory_replace": memory_replace,
    "memory_insert": memory_insert,
    "memory_rethink": memory_rethink,
    "memory_finish_edits": memory_finish_edits,
    "rethink_memory": rethink_memory,
}

#: Tools that read or write blocks (``memory_finish_edits`` needs none).
BLOCK_TOOLS = frozenset(MEMORY_TOOLS) - {"memory_finish_edits"}
