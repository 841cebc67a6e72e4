"""ToolRulesSolver.get_allowed_tool_names: one table per rule type (spec §2)."""

from __future__ import annotations

from typing import Any

import pytest

from letta_batch.tool_rules import (
    NO_RESPONSE_ERROR,
    NO_VALID_TOOLS_ERROR,
    ChildToolRule,
    ConditionalToolRule,
    ContinueToolRule,
    InitToolRule,
    MaxCountPerStepToolRule,
    ParentToolRule,
    RequiredBeforeExitToolRule,
    RequiresApprovalToolRule,
    TerminalToolRule,
    ToolRulesSolver,
)

AVAIL = {"a", "b", "c", "d"}


def allowed(rules: list[Any], history: list[str], avail: set[str] = AVAIL, **kw: Any) -> list[str]:
    return ToolRulesSolver(tool_rules=rules, tool_call_history=history).get_allowed_tool_names(
        avail, **kw
    )


def test_no_rules_returns_sorted_available() -> None:
    assert allowed([], []) == ["a", "b", "c", "d"]
    assert allowed([], ["x"]) == ["a", "b", "c", "d"]
    assert ToolRulesSolver(tool_rules=None, tool_call_history=None).tool_rules == []


@pytest.mark.parametrize(
    ("rules", "history", "avail", "expected"),
    [
        ([InitToolRule(tool_name="b")], [], AVAIL, ["b"]),
        ([InitToolRule(tool_name="d"), InitToolRule(tool_name="a")], [], AVAIL, ["a", "d"]),
        # Not intersected with available and never raising (Letta semantics).
        ([InitToolRule(tool_name="zz")], [], AVAIL, ["zz"]),
        ([InitToolRule(tool_name="zz")], [], set(), ["zz"]),
        # Duplicated init rules are listed once.
        (
            [InitToolRule(tool_name="a"), InitToolRule(tool_name="a", args={"x": 1})],
            [],
            AVAIL,
            ["a"],
        ),
        # Init rules only matter while the history is empty.
        ([InitToolRule(tool_name="b")], ["b"], AVAIL, ["a", "b", "c", "d"]),
        # Init rules override every other rule on the first call.
        (
            [InitToolRule(tool_name="b"), ParentToolRule(tool_name="a", children=["b"])],
            [],
            AVAIL,
            ["b"],
        ),
    ],
)
def test_init_rules(
    rules: list[Any], history: list[str], avail: set[str], expected: list[str]
) -> None:
    assert allowed(rules, history, avail) == expected


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ([], ["a", "b", "c", "d"]),
        (["a"], ["b", "c"]),
        (["b"], ["a", "b", "c", "d"]),
        (["a", "b"], ["a", "b", "c", "d"]),
        (["b", "a"], ["b", "c"]),
    ],
)
def test_child_rule(history: list[str], expected: list[str]) -> None:
    assert allowed([ChildToolRule(tool_name="a", children=["c", "b"])], history) == expected


def test_child_rule_unattached_children() -> None:
    rules = [ChildToolRule(tool_name="a", children=["x", "c"])]
    assert allowed(rules, ["a"]) == ["c"]  # ∩ available
    rules = [ChildToolRule(tool_name="a", children=["x", "y"])]
    with pytest.raises(ValueError, match=NO_VALID_TOOLS_ERROR):
        allowed(rules, ["a"])
    assert allowed(rules, ["a"], error_on_empty=False) == []


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ([], ["a", "d"]),
        (["d"], ["a", "d"]),
        (["a"], ["b", "c"]),
        (["a", "b"], ["a", "d"]),
    ],
)
def test_parent_rule(history: list[str], expected: list[str]) -> None:
    assert allowed([ParentToolRule(tool_name="a", children=["b", "c"])], history) == expected


@pytest.mark.parametrize(
    ("limit", "history", "expected"),
    [
        (1, ["x"], ["a", "b", "c", "d"]),
        (1, ["a"], ["b", "c", "d"]),
        (2, ["a"], ["a", "b", "c", "d"]),
        (2, ["a", "b", "a"], ["b", "c", "d"]),  # counts across the whole history
        (2, ["a", "b", "a", "c"], ["b", "c", "d"]),  # not just consecutive calls
        (3, ["a", "a"], ["a", "b", "c", "d"]),
    ],
)
def test_max_count_rule(limit: int, history: list[str], expected: list[str]) -> None:
    rule = MaxCountPerStepToolRule(tool_name="a", max_count_limit=limit)
    assert allowed([rule], history) == expected


def test_max_count_only_tool_exhausted() -> None:
    rule = MaxCountPerStepToolRule(tool_name="a", max_count_limit=1)
    with pytest.raises(ValueError, match=NO_VALID_TOOLS_ERROR):
        allowed([rule], ["a"], {"a"})
    assert allowed([rule], ["a"], {"a"}, error_on_empty=False) == []


@pytest.mark.parametrize(
    "rule",
    [
        TerminalToolRule(tool_name="a"),
        ContinueToolRule(tool_name="a"),
        RequiredBeforeExitToolRule(tool_name="a"),
        RequiresApprovalToolRule(tool_name="a"),
    ],
)
@pytest.mark.parametrize("history", [[], ["a"], ["b", "a"]])
def test_non_filtering_rules(rule: Any, history: list[str]) -> None:
    assert allowed([rule], history) == ["a", "b", "c", "d"]
    assert rule.get_valid_tools(history, AVAIL, None) == AVAIL


def test_rules_intersect() -> None:
    rules = [
        ChildToolRule(tool_name="a", children=["b", "c", "d"]),
        ParentToolRule(tool_name="x", children=["d"]),
        MaxCountPerStepToolRule(tool_name="c", max_count_limit=1),
    ]
    assert allowed(rules, ["c", "a"]) == ["b"]
    assert allowed(rules, ["c", "a"], {"a", "c", "d"}, error_on_empty=False) == []


def test_conditional_requires_response_only_when_its_tool_was_last() -> None:

    rule = ConditionalToolRule(tool_name="a", child_output_mapping={"x": "b"})
    assert allowed([rule], ["b"]) == ["a", "b", "c", "d"]
    for resp in (None, ""):
        with pytest.raises(ValueError, match=NO_RESPONSE_ERROR):
            allowed([rule], ["a"], last_function_response=resp)
    # error_on_empty does not soften it.
    with pytest.raises(ValueError, match=NO_RESPONSE_ERROR):
        allowed([rule], ["a"], error_on_empty=False)
