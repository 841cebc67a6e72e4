"""ConditionalToolRule routing: key matching per type, strict vs non-strict, fallbacks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from letta_batch.tool_rules import (
    NO_VALID_TOOLS_ERROR,
    ConditionalToolRule,
    ToolRulesSolver,
)
from letta_batch.tool_rules.conditional import matches_key

AVAIL = {"a", "b", "c", "d", "t"}


def msg(value: Any) -> str:
    return json.dumps({"message": value, "status": "OK"})


def route(
    mapping: Any, response: str, default: str | None = None, strict: bool = False
) -> set[str]:
    rule = ConditionalToolRule(
        tool_name="t",
        child_output_mapping=mapping,
        default_child=default,
        require_output_mapping=strict,
    )
    return rule.get_valid_tools(["x", "t"], AVAIL, response)


@pytest.mark.parametrize(
    ("key", "output", "expected"),
    [
        # bool keys: case-insensitive "true"/"false" only.
        (True, "true", True),
        (True, "True", True),
        (True, "TRUE", True),
        (True, "1", False),
        (True, "false", False),
        (False, "False", True),
        (False, "false", True),
        (False, "0", False),
        (False, "", False),
        # int keys: int(output) == key.
        (1, "1", True),
        (1, " 1 ", True),
        (1, "01", True),
        (1, "1.0", False),
        (1, "true", False),
        (-3, "-3", True),
        (1, "9" * 5000, False),  # int() refuses very long strings: no match, no crash
        # float keys: float(output) == key.
        (1.0, "1", True),
        (1.0, "1.0", True),
        (1.0, "1e0", True),
        (1.5, "1.50", True),
        (1.5, "1.4", False),
        (1.0, "one", False),
        (1.0, "1e999", False),
        # str keys: exact, case-sensitive.
        ("1", "1", True),
        ("1", "1.0", False),
        ("true", "true", True),
        ("true", "True", False),
        ("", "", True),
    ],
)
def test_matches_key(key: Any, output: str, expected: bool) -> None:
    assert matches_key(output, key) is expected


@pytest.mark.parametrize(
    ("mapping", "value", "expected"),
    [
        ({True: "a", False: "b"}, "True", {"a"}),
        ({True: "a", False: "b"}, "false", {"b"}),
        ({True: "a", False: "b"}, True, {"a"}),  # non-string output goes through str()
        ({1: "a", 2: "b"}, "2", {"b"}),
        ({1: "a"}, 1, {"a"}),
        ({1.0: "a"}, "1", {"a"}),
        ({1.5: "a"}, 1.5, {"a"}),
        ({"ok": "a"}, "ok", {"a"}),
        ({"None": "a"}, None, {"a"}),
        # First matching key wins, in mapping order.
        ([("1", "a"), (1, "b")], "1", {"a"}),
        ([(1, "b"), ("1", "a")], "1", {"b"}),
        ([(2.0, "c"), ("2", "b")], "2", {"c"}),
        ([("2", "b"), (2.0, "c")], "2.0", {"c"}),
        # Letta-JSON mapping (keys became strings): "true" no longer matches "True".
        ({"true": "a"}, "True", AVAIL),
    ],
)
def test_routing(mapping: Any, value: Any, expected: set[str]) -> None:
    assert route(mapping, msg(value)) == expected


@pytest.mark.parametrize(
    ("response", "default", "strict", "expected"),
    [
        (msg("nomatch"), None, False, AVAIL),
        (msg("nomatch"), "b", False, {"b"}),
        (msg("nomatch"), "b", True, set()),
        ("not json", None, False, AVAIL),
        ("not json", "b", False, {"b"}),
        ("not json", "b", True, set()),
        ("[1, 2]", "b", False, {"b"}),  # JSON but not an object: treated as unparsable
        ("[1, 2]", None, True, set()),
        (json.dumps({"status": "OK"}), "b", False, {"b"}),  # no "message" → "" (no match)
        (json.dumps({"status": "OK"}), None, True, set()),
        (msg("yes"), "b", True, {"a"}),
    ],
)
def test_fallbacks(response: str, default: str | None, strict: bool, expected: set[str]) -> None:
    assert route({"yes": "a"}, response, default, strict) == expected


def test_missing_message_matches_empty_string_key() -> None:
    assert route({"": "a"}, json.dumps({"status": "OK"})) == {"a"}


def test_solver_strict_no_match_empty() -> None:
    rules = [
        {
            "type": "conditional",
            "tool_name": "t",
            "child_output_mapping": {"x": "a"},
            "require_output_mapping": True,
        }
    ]
    solver = ToolRulesSolver(tool_rules=rules, tool_call_history=["t"])
    with pytest.raises(ValueError, match=NO_VALID_TOOLS_ERROR):
        solver.get_allowed_tool_names(AVAIL, last_function_response=msg("y"))
    assert solver.get_allowed_tool_names(AVAIL, False, msg("y")) == []
    assert solver.get_allowed_tool_names(AVAIL, last_function_response=msg("x")) == ["a"]


def test_solver_mapped_tool_must_be_available() -> None:
    rules = [{"type": "conditional", "tool_name": "t", "child_output_mapping": {"x": "zz"}}]
    solver = ToolRulesSolver(tool_rules=rules, tool_call_history=["t"])
    with pytest.raises(ValueError, match=NO_VALID_TOOLS_ERROR):
        solver.get_allowed_tool_names(AVAIL, last_function_response=msg("x"))
    assert solver.get_allowed_tool_names(AVAIL, last_function_response=msg("other")) == sorted(
        AVAIL
    )


def test_solver_default_child_intersected_with_available() -> None:
    rules = [
        {
            "type": "conditional",
            "tool_name": "t",
            "child_output_mapping": {"x": "a"},
            "default_child": "zz",
        }
    ]
    solver = ToolRulesSolver(tool_rules=rules, tool_call_history=["t"])
    assert solver.get_allowed_tool_names(AVAIL, False, msg("other")) == []
