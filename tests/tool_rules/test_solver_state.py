"""ToolRulesSolver prefilled-args cache and state JSON."""

from __future__ import annotations

import json

import pytest

from letta_batch.tool_rules import (
    ChildToolRule,
    InitToolRule,
    ToolRulesSolver,
)
from tests.tool_rules.test_solver_helpers import RULES

AVAIL = {"a", "b", "c", "d"}


# --- prefilled args -------------------------------------------------------------------------


def test_init_args_prefilled_while_history_empty() -> None:
    solver = ToolRulesSolver(tool_rules=[InitToolRule(tool_name="a", args={"x": 1, "y": "s"})])
    solver.get_allowed_tool_names(AVAIL)
    assert solver.get_prefilled_args() == {"a": {"x": 1, "y": "s"}}
    assert solver.get_prefilled_args_provenance() == {"a": "InitToolRule(a)"}
    solver.register_tool_call("a")
    solver.get_allowed_tool_names(AVAIL)
    assert solver.get_prefilled_args() == {}


def test_init_args_need_available_tool_and_nonempty_args() -> None:
    solver = ToolRulesSolver(
        tool_rules=[InitToolRule(tool_name="zz", args={"x": 1}), InitToolRule(tool_name="b")]
    )
    assert solver.get_allowed_tool_names(AVAIL) == ["b", "zz"]
    assert solver.get_prefilled_args() == {}


def test_child_arg_nodes_prefilled_when_parent_last() -> None:
    rules = [
        InitToolRule(tool_name="a", args={"p": 0}),
        ChildToolRule(
            tool_name="a",
            children=["b", "c", "x"],
            child_arg_nodes=[
                {"name": "b", "args": {"k": [1, {"n": None}]}},
                {"name": "x", "args": {"k": 2}},  # not available: skipped
                {"name": "c", "args": {}},  # empty: skipped
            ],
        ),
        ChildToolRule(
            tool_name="a", children=["b"], child_arg_nodes=[{"name": "b", "args": {"k": 3, "m": 4}}]
        ),
    ]
    solver = ToolRulesSolver(tool_rules=rules, tool_call_history=["a"])
    assert solver.get_allowed_tool_names(AVAIL) == ["b"]
    # Last write wins, key by key.
    assert solver.get_prefilled_args() == {"b": {"k": 3, "m": 4}}
    assert solver.get_prefilled_args_provenance() == {"b": "ChildToolRule(a->b)"}
    solver.get_prefilled_args()["b"]["k"] = 99  # returned copies do not alias the cache
    assert solver.get_prefilled_args()["b"]["k"] == 3
    solver.register_tool_call("b")
    solver.get_allowed_tool_names(AVAIL)
    assert solver.get_prefilled_args() == {}


def test_prefill_cache_cleared_when_evaluation_raises() -> None:
    rules = [
        ChildToolRule(
            tool_name="a", children=["b"], child_arg_nodes=[{"name": "b", "args": {"k": 1}}]
        )
    ]
    solver = ToolRulesSolver(tool_rules=rules, tool_call_history=["a"])
    solver.get_allowed_tool_names(AVAIL)
    assert solver.get_prefilled_args() == {"b": {"k": 1}}
    with pytest.raises(ValueError):
        solver.get_allowed_tool_names({"a"})
    assert solver.get_prefilled_args() == {}


# --- state JSON -----------------------------------------------------------------------------


def test_state_json_shape_and_roundtrip() -> None:
    solver = ToolRulesSolver(tool_rules=RULES, tool_call_history=["init", "plan"])
    data = solver.to_json()
    assert set(data) == {"tool_rules", "tool_call_history"}
    assert data == solver.model_dump(mode="json")
    assert data["tool_call_history"] == ["init", "plan"]
    text = json.dumps(data)
    for back in (
        ToolRulesSolver.from_json(text),
        ToolRulesSolver.from_json(text.encode()),
        ToolRulesSolver.from_json(json.loads(text)),
        ToolRulesSolver.model_validate_json(solver.model_dump_json()),
    ):
        assert back == solver
        assert back.to_json() == data
    assert ToolRulesSolver(tool_rules=RULES) != solver
    assert solver != object()


def test_equality_ignores_prefill_cache() -> None:
    rules = [InitToolRule(tool_name="a", args={"x": 1})]
    solver = ToolRulesSolver(tool_rules=rules)
    solver.get_allowed_tool_names(AVAIL)
    assert solver == ToolRulesSolver.from_json(solver.to_json())


def test_branch_is_an_equal_independent_copy() -> None:
    solver = ToolRulesSolver(tool_rules=RULES, tool_call_history=["a"])
    solver.get_allowed_tool_names(AVAIL)
    branch = solver.branch()
    assert branch == solver and branch.to_json() == solver.to_json()
    assert branch.get_allowed_tool_names(AVAIL) == solver.get_allowed_tool_names(AVAIL)
    branch.register_tool_call("b")
    branch.tool_rules.append(InitToolRule(tool_name="d"))
    assert solver.tool_call_history == ["a"] and len(solver.tool_rules) == len(RULES)
    assert ToolRulesSolver.from_json(branch.to_json()) == branch


def test_equal_stored_rule_lists_share_validated_rules_but_not_lists() -> None:
    stored = ToolRulesSolver(tool_rules=RULES).to_json()
    first, second = (ToolRulesSolver.from_json(json.loads(json.dumps(stored))) for _ in range(2))
    assert first == second and first.tool_rules is not second.tool_rules
    assert all(a is b for a, b in zip(first.tool_rules, second.tool_rules, strict=True))
    with pytest.raises(ValueError, match="tool_rules"):  # invalid lists still fail as before
        ToolRulesSolver.model_validate({"tool_rules": [{"type": "nope", "tool_name": "a"}]})


def test_branch_does_not_share_the_prefilled_args_cache() -> None:
    solver = ToolRulesSolver(tool_rules=[InitToolRule(tool_name="a", args={"x": 1})])
    solver.get_allowed_tool_names(AVAIL)
    branch = solver.branch()
    assert branch.get_prefilled_args() == {}  # rebuilt on the branch's next evaluation
    branch.register_tool_call("a")
    branch.get_allowed_tool_names(AVAIL)
    assert solver.get_prefilled_args() == {"a": {"x": 1}}
