"""ToolResult construction, stringification and Letta's texts; built-in dispatch."""

from __future__ import annotations

from letta_batch.schemas import Tool, ToolType
from letta_batch.tools import (
    BUILTIN_TOOL_NAMES,
    ToolResult,
    builtin_tools,
    friendly_error_msg,
    is_builtin_tool,
)


def test_ok_stringifies_like_letta() -> None:
    assert ToolResult.ok(None).func_response == "None"
    assert ToolResult.ok("done").func_response == "done"
    assert ToolResult.ok({"a": "é"}).func_response == '{"a": "é"}'
    assert ToolResult.ok([1, 2]).func_response == "[1, 2]"
    assert ToolResult.ok(3.5).func_response == "3.5"


def test_truncation_note_and_error_texts() -> None:
    result = ToolResult.ok("abcdef", limit=3)
    assert result.func_return == "abcdef"
    assert result.func_response == (
        "abc... [NOTE: function output was truncated since it exceeded the character limit: 6 > 3]"
    )
    assert friendly_error_msg("f", "KeyError", "'x'") == "Error executing function f: KeyError: 'x'"
    assert len(friendly_error_msg("f", "E", "m" * 5000)) == 1000
    err = ToolResult.from_exception("core_memory_append", ValueError("boom"))
    assert (err.status, err.func_response, err.success_flag) == ("error", "boom", False)
    assert err.stderr == ["Error executing function core_memory_append: ValueError: boom"]


def test_results_round_trip_through_json() -> None:
    result = ToolResult.ok({"message": "Showing 1 results:", "results": []})
    assert ToolResult.model_validate(result.model_dump(mode="json")) == result


def test_builtin_dispatch() -> None:
    tools = builtin_tools("org-1")
    assert {t.name for t in tools} == BUILTIN_TOOL_NAMES
    assert all(is_builtin_tool(t) for t in tools)
    assert len({t.id for t in tools}) == len(tools)
    custom = Tool(id="t", name="get_weather", tool_type=ToolType.custom, source_code="def f(): 1")
    assert not is_builtin_tool(custom)
    # A custom tool shadowing a built-in name runs in the sandbox, except legacy rethink_memory.
    assert not is_builtin_tool(custom.model_copy(update={"name": "send_message"}))
    assert is_builtin_tool(custom.model_copy(update={"name": "rethink_memory"}))
    assert not is_builtin_tool(Tool(id="m", name="memory", tool_type=ToolType.letta_memory_core))
