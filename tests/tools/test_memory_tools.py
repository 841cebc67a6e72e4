"""Memory tool semantics and Letta's exact error texts (pure, no database)."""

from __future__ import annotations

import pytest

from letta_batch.tools.builtin.memory import (
    CORE_MEMORY_LINE_NUMBER_WARNING,
    MEMORY_TOOLS,
    AgentMemory,
    MemoryBlock,
)


def memory(value: str = "Name: Alice\nLikes: tea", *, limit: int = 100, read_only: bool = False):
    block = MemoryBlock(
        id="block-1", label="human", value=value, limit=limit, read_only=read_only, version=1
    )
    persona = MemoryBlock(
        id="block-2", label="persona", value="I am Sam", limit=100, read_only=False, version=1
    )
    return AgentMemory([block, persona]), block


def run(tool: str, mem: AgentMemory, **args):
    return MEMORY_TOOLS[tool](mem, **args)


def test_core_memory_append_joins_with_newline_and_returns_value() -> None:
    mem, block = memory("a")
    assert run("core_memory_append", mem, label="human", content="b") == "a\nb"
    assert block.value == "a\nb" and block.changed and mem.touched == {"block-1"}


def test_core_memory_replace_replaces_all_occurrences() -> None:
    mem, _ = memory("tea and tea")
    assert (
        run("core_memory_replace", mem, label="human", old_content="tea", new_content="coffee")
        == "coffee and coffee"
    )


def test_core_memory_replace_requires_old_content() -> None:
    mem, _ = memory()
    with pytest.raises(ValueError) as err:
        run("core_memory_replace", mem, label="human", old_content="Bob", new_content="x")
    assert str(err.value) == "Old content 'Bob' not found in memory block 'human'"


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("core_memory_append", {"content": "x"}),
        ("core_memory_replace", {"old_content": "Alice", "new_content": "x"}),
        ("memory_replace", {"old_string": "Alice", "new_string": "x"}),
        ("memory_insert", {"new_string": "x"}),
        ("memory_rethink", {"new_memory": "x"}),
    ],
)
def test_read_only_blocks_refuse_every_edit(tool: str, args: dict) -> None:
    mem, block = memory(read_only=True)
    with pytest.raises(ValueError) as err:
        run(tool, mem, label="human", **args)
    assert str(err.value) == "Error This block is read-only and cannot be edited."
    assert not block.changed


def test_legacy_rethink_memory_respects_read_only_and_limit() -> None:
    mem, _ = memory(read_only=True)
    with pytest.raises(ValueError, match="read-only"):
        run("rethink_memory", mem, new_memory="x", target_block_label="human")
    mem, block = memory(limit=5)
    with pytest.raises(ValueError) as err:
        run("rethink_memory", mem, new_memory="123456", target_block_label="human")
    assert str(err.value) == "Edit failed: Exceeds 5 character limit (requested 6)"
    assert run("rethink_memory", mem, new_memory="banana"[:5], target_block_label="human") is None
    assert block.value == "banan"


def test_unknown_label_lists_available_sections() -> None:
    mem, _ = memory()
    with pytest.raises(KeyError) as err:
        run("core_memory_append", mem, label="todo", content="x")
    assert (
        str(err.value) == "'Block field todo does not exist (available sections = human, persona)'"
    )


def test_limit_enforced_with_letta_text() -> None:
    mem, block = memory("abc", limit=10)
    with pytest.raises(ValueError) as err:
        run("core_memory_append", mem, label="human", content="0123456789")
    assert str(err.value) == "Edit failed: Exceeds 10 character limit (requested 14)"
    assert block.value == "abc" and not block.changed


def test_memory_replace_needs_exactly_one_occurrence() -> None:
    mem, _ = memory("x = 1\ny = 2\nx = 3")
    with pytest.raises(ValueError) as err:
        run("memory_replace", mem, label="human", old_string="x =", new_string="z =")
    assert str(err.value) == (
        "No replacement was performed. Multiple occurrences of old_string `x =` in lines "
        "[1, 3]. Please ensure it is unique."
    )
    with pytest.raises(ValueError) as err:
        run("memory_replace", mem, label="human", old_string="w", new_string="v")
    assert str(err.value) == (
        "No replacement was performed, old_string `w` did not appear verbatim in memory block "
        "with label `human`."
    )
    assert (
        run("memory_replace", mem, label="human", old_string="y = 2", new_string="y = 5")
        == "x = 1\ny = 5\nx = 3"
    )


@pytest.mark.parametrize(
    ("args", "param", "kind"),
    [
        ({"old_string": "1→ Name: Alice", "new_string": "Bob"}, "old_string", "prefix"),
        ({"old_string": "Alice", "new_string": "  2→ Bob"}, "new_string", "prefix"),
        (
            {"old_string": CORE_MEMORY_LINE_NUMBER_WARNING, "new_string": "x"},
            "old_string",
            "warning",
        ),
    ],
)
def test_memory_replace_rejects_line_numbers(args: dict, param: str, kind: str) -> None:
    mem, _ = memory()
    with pytest.raises(ValueError) as err:
        run("memory_replace", mem, label="human", **args)
    if kind == "prefix":
        assert str(err.value) == (
            f"{param} contains a line number prefix, which is not allowed. Do not include line "
            "numbers when calling memory tools (line numbers are for display purposes only)."
        )
    else:
        assert str(err.value).startswith(f"{param} contains a line number warning")


@pytest.mark.parametrize(
    ("insert_line", "expected"),
    [(-1, "a\nb\nNEW"), (0, "NEW\na\nb"), (1, "a\nNEW\nb"), (2, "a\nb\nNEW"), (1.0, "a\nNEW\nb")],
)
def test_memory_insert_line_semantics(insert_line: int, expected: str) -> None:
    mem, _ = memory("a\nb")
    assert (
        run("memory_insert", mem, label="human", new_string="NEW", insert_line=insert_line)
        == expected
    )


def test_memory_insert_out_of_range_and_prefixes() -> None:
    mem, _ = memory("a\nb")
    with pytest.raises(ValueError) as err:
        run("memory_insert", mem, label="human", new_string="x", insert_line=3)
    assert str(err.value) == (
        "Invalid `insert_line` parameter: 3. It should be within the range of lines of the "
        "memory block: [0, 2], or -1 to append to the end of the memory block."
    )
    with pytest.raises(ValueError, match="new_string contains a line number prefix"):
        run("memory_insert", mem, label="human", new_string="3→ x")


def test_memory_rethink_replaces_whole_value_and_finish_edits_returns_none() -> None:
    mem, block = memory()
    assert run("memory_rethink", mem, label="human", new_memory="all new") == "all new"
    assert block.value == "all new"
    with pytest.raises(ValueError, match="new_memory contains a line number prefix"):
        run("memory_rethink", mem, label="human", new_memory="1→ x")
    assert run("memory_finish_edits", mem) is None


def test_missing_argument_is_a_type_error() -> None:
    mem, _ = memory()
    with pytest.raises(TypeError, match="content"):
        run("core_memory_append", mem, label="human")
