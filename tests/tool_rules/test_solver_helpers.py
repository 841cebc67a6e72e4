"""ToolRulesSolver loop-decision helpers and compiled rule prompts."""

from __future__ import annotations

from typing import Any

import pytest

from letta_batch.tool_rules import (
    ChildToolRule,
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


# --- loop-decision helpers -------------------------------------------------------------------

RULES = [
    InitToolRule(tool_name="init"),
    TerminalToolRule(tool_name="send"),
    ContinueToolRule(tool_name="search"),
    ChildToolRule(tool_name="plan", children=["run"]),
    {"type": "conditional", "tool_name": "check", "child_output_mapping": {"x": "run"}},
    MaxCountPerStepToolRule(tool_name="search", max_count_limit=2),
    ParentToolRule(tool_name="plan", children=["exec"]),
    RequiredBeforeExitToolRule(tool_name="save"),
    RequiresApprovalToolRule(tool_name="delete"),
]


@pytest.mark.parametrize(
    ("name", "terminal", "children", "cont", "approval"),
    [
        ("send", True, False, False, False),
        ("search", False, True, True, False),  # max-count counts as "has children" (Letta)
        ("plan", False, True, False, False),  # parent rule alone would not
        ("check", False, True, False, False),
        ("delete", False, False, False, True),
        ("save", False, False, False, False),  # required-before-exit is not terminal
        ("init", False, False, False, False),
        ("other", False, False, False, False),
    ],
)
def test_membership_helpers(
    name: str, terminal: bool, children: bool, cont: bool, approval: bool
) -> None:
    solver = ToolRulesSolver(tool_rules=RULES)
    assert solver.is_terminal_tool(name) is terminal
    assert solver.has_children_tools(name) is children
    assert solver.is_continue_tool(name) is cont
    assert solver.is_requires_approval_tool(name) is approval


def test_parent_rule_is_not_child_based() -> None:
    solver = ToolRulesSolver(tool_rules=[ParentToolRule(tool_name="p", children=["c"])])
    assert not solver.has_children_tools("p")


@pytest.mark.parametrize(
    ("rules", "history", "expected"),
    [
        ([], [], False),
        ([InitToolRule(tool_name="i")], [], True),
        ([InitToolRule(tool_name="i")], ["i"], False),
        ([ChildToolRule(tool_name="p", children=["c"])], ["p"], True),
        ([ChildToolRule(tool_name="p", children=["c"])], ["p", "c"], False),
        ([ParentToolRule(tool_name="p", children=["c"])], ["p"], True),
        (
            [{"type": "conditional", "tool_name": "p", "child_output_mapping": {1: "c"}}],
            ["p"],
            True,
        ),
        ([MaxCountPerStepToolRule(tool_name="p", max_count_limit=1)], ["p"], False),
        ([ContinueToolRule(tool_name="p"), TerminalToolRule(tool_name="p")], ["p"], False),
    ],
)
def test_should_force_tool_call(rules: list[Any], history: list[str], expected: bool) -> None:
    solver = ToolRulesSolver(tool_rules=rules, tool_call_history=history)
    assert solver.should_force_tool_call() is expected


def test_uncalled_required_tools() -> None:
    rules = [RequiredBeforeExitToolRule(tool_name=n) for n in ("z", "b", "a", "q")]
    solver = ToolRulesSolver(tool_rules=rules, tool_call_history=["b"])
    assert solver.get_uncalled_required_tools({"a", "b", "z", "x"}) == ["a", "z"]
    assert not solver.has_required_tools_been_called({"a"})
    solver.register_tool_call("a")
    assert solver.has_required_tools_been_called({"a", "b", "q"}) is False
    assert solver.get_uncalled_required_tools({"a", "b", "q"}) == ["q"]
    assert ToolRulesSolver().get_uncalled_required_tools(AVAIL) == []


def test_register_and_clear_history() -> None:
    solver = ToolRulesSolver(tool_rules=[InitToolRule(tool_name="a")])
    assert solver.get_allowed_tool_names(AVAIL) == ["a"]
    solver.register_tool_call("a")
    solver.register_tool_call("b")
    assert solver.tool_call_history == ["a", "b"]
    assert solver.get_allowed_tool_names(AVAIL) == ["a", "b", "c", "d"]
    solver.clear_tool_history()
    assert solver.tool_call_history == []
    assert solver.get_allowed_tool_names(AVAIL) == ["a"]


# --- prompts --------------------------------------------------------------------------------


def test_compile_prompts_order_and_selection() -> None:
    solver = ToolRulesSolver(tool_rules=RULES)
    assert solver.compile_tool_rule_prompts() == "\n".join(
        [
            # init renders nothing; then continue, child-based (rule order), parent, terminal.
            "<tool_rule>\nsearch requires continuing your response when called\n</tool_rule>",
            "<tool_rule>\nAfter using plan, you must use one of these tools: run\n</tool_rule>",
            "<tool_rule>\ncheck will determine which tool to use next based on its output\n"
            "</tool_rule>",
            "<tool_rule>\nsearch: at most 2 use(s) per response\n</tool_rule>",
            "<tool_rule>\nexec can only be used after plan\n</tool_rule>",
            "<tool_rule>\nsend ends your response (yields control) when called\n</tool_rule>",
        ]
    )


@pytest.mark.parametrize(
    "rules",
    [
        [],
        [InitToolRule(tool_name="a")],
        # Letta leaves required-before-exit and requires-approval out of the compiled block.
        [RequiredBeforeExitToolRule(tool_name="a"), RequiresApprovalToolRule(tool_name="a")],
    ],
)
def test_compile_prompts_none(rules: list[Any]) -> None:
    assert ToolRulesSolver(tool_rules=rules).compile_tool_rule_prompts() is None


def test_guess_rule_violation() -> None:
    solver = ToolRulesSolver(tool_rules=RULES, tool_call_history=["plan"])
    hints = solver.guess_rule_violation("send")
    assert hints == [
        "<tool_rule>\nAfter using plan, you must use one of these tools: run\n</tool_rule>",
        "<tool_rule>\nexec can only be used after plan\n</tool_rule>",
        "<tool_rule>\nsend ends your response (yields control) when called\n</tool_rule>",
    ]
