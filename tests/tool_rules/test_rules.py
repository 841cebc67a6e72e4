"""Rule models: validation, Letta input shapes, lossless JSON, equality, prompt texts."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from letta_batch.tool_rules import (
    COMPILED_PROMPT_DESCRIPTION,
    TOOL_RULE_ADAPTER,
    ChildToolRule,
    ConditionalToolRule,
    ContinueToolRule,
    InitToolRule,
    MaxCountPerStepToolRule,
    ParentToolRule,
    RequiredBeforeExitToolRule,
    RequiresApprovalToolRule,
    TerminalToolRule,
    ToolRuleType,
)


def _roundtrip(rules: list) -> list:
    text = json.dumps(TOOL_RULE_ADAPTER.dump_python(rules, mode="json"))
    return TOOL_RULE_ADAPTER.validate_python(json.loads(text))


@pytest.mark.parametrize(
    ("data", "cls"),
    [
        ({"type": "run_first", "tool_name": "t", "args": {"a": 1}}, InitToolRule),
        ({"type": "exit_loop", "tool_name": "t"}, TerminalToolRule),
        ({"type": "continue_loop", "tool_name": "t"}, ContinueToolRule),
        (
            {"type": "conditional", "tool_name": "t", "child_output_mapping": {"x": "a"}},
            ConditionalToolRule,
        ),
        ({"type": "constrain_child_tools", "tool_name": "t", "children": ["a"]}, ChildToolRule),
        (
            {"type": "max_count_per_step", "tool_name": "t", "max_count_limit": 2},
            MaxCountPerStepToolRule,
        ),
        ({"type": "parent_last_tool", "tool_name": "t", "children": ["a"]}, ParentToolRule),
        ({"type": "required_before_exit", "tool_name": "t"}, RequiredBeforeExitToolRule),
        ({"type": "requires_approval", "tool_name": "t"}, RequiresApprovalToolRule),
    ],
)
def test_discriminates_every_letta_type(data: dict, cls: type) -> None:
    [rule] = TOOL_RULE_ADAPTER.validate_python([data])
    assert type(rule) is cls
    assert rule.type == ToolRuleType(data["type"])
    assert _roundtrip([rule]) == [rule]
    dumped = rule.model_dump(mode="json")
    assert dumped["type"] == data["type"] and dumped["tool_name"] == "t"


def test_letta_extra_fields_and_prompt_template_accepted() -> None:
    # Older Letta dumps carry ``args`` on every rule and a Jinja prompt_template.
    data = {"type": "exit_loop", "tool_name": "t", "args": None, "prompt_template": "{{x}}"}
    [rule] = TOOL_RULE_ADAPTER.validate_python([data])
    assert rule.prompt_template == "{{x}}"
    assert rule.render_prompt() == TerminalToolRule(tool_name="t").render_prompt()
    assert rule == TerminalToolRule(tool_name="t")  # prompt_template is not identity


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"type": "bogus", "tool_name": "t"}, "'bogus'"),
        ({"tool_name": "t"}, "type"),
        ({"type": "exit_loop", "tool_name": ""}, "tool_name"),
        (
            {"type": "conditional", "tool_name": "t", "child_output_mapping": {}},
            "child_output_mapping must have at least one entry",
        ),
        (
            {"type": "conditional", "tool_name": "t", "child_output_mapping": "x"},
            "child_output_mapping must be a mapping",
        ),
        (
            {"type": "conditional", "tool_name": "t", "child_output_mapping": [{"k": 1}]},
            "child_output_mapping[0]",
        ),
        (
            {"type": "conditional", "tool_name": "t", "child_output_mapping": [[None, "a"]]},
            "key None (NoneType) must be bool, int, float or str",
        ),
        (
            {"type": "conditional", "tool_name": "t", "child_output_mapping": [[1.0, 2]]},
            "must be a tool name",
        ),
        (
            {
                "type": "conditional",
                "tool_name": "t",
                "child_output_mapping": [{"key": True, "tool": "a"}, {"key": 1, "tool": "b"}],
            },
            "key 1 duplicates earlier key True",
        ),
        (
            {
                "type": "conditional",
                "tool_name": "t",
                "child_output_mapping": [{"key": float("inf"), "tool": "a"}],
            },
            "finite",
        ),
        (
            {
                "type": "constrain_child_tools",
                "tool_name": "p",
                "children": ["a"],
                "child_arg_nodes": [{"name": "z", "args": {}}],
            },
            "child_arg_nodes[0].name='z' is not in children=['a'] of the rule for 'p'",
        ),
        ({"type": "max_count_per_step", "tool_name": "t", "max_count_limit": 0}, "max_count_limit"),
        ({"type": "constrain_child_tools", "tool_name": "t"}, "children"),
    ],
)
def test_validation_errors_are_clear(data: dict, needle: str) -> None:
    with pytest.raises(ValidationError) as err:
        TOOL_RULE_ADAPTER.validate_python([data])
    assert needle in str(err.value)


def test_conditional_keys_keep_types_through_json() -> None:
    rule = ConditionalToolRule(
        tool_name="c",
        child_output_mapping={True: "a", 2: "b", 1.5: "x", "s": "y", "true": "z"},
    )
    dumped = rule.model_dump(mode="json")
    assert dumped["child_output_mapping"] == [
        {"key": True, "tool": "a"},
        {"key": 2, "tool": "b"},
        {"key": 1.5, "tool": "x"},
        {"key": "s", "tool": "y"},
        {"key": "true", "tool": "z"},
    ]
    [back] = _roundtrip([rule])
    assert [(type(k), k) for k in back.child_output_mapping] == [
        (bool, True),
        (int, 2),
        (float, 1.5),
        (str, "s"),
        (str, "true"),
    ]
    assert back == rule


def test_letta_json_mapping_keys_are_strings() -> None:
    # What Letta writes to its DB: a JSON object, so True became "true".
    letta = json.loads(
        json.dumps(
            {"type": "conditional", "tool_name": "c", "child_output_mapping": {True: "a", 2: "b"}}
        )
    )
    [rule] = TOOL_RULE_ADAPTER.validate_python([letta])
    assert list(rule.child_output_mapping) == ["true", "2"]
    assert all(type(k) is str for k in rule.child_output_mapping)


def test_equality_and_hash_include_type_specific_fields_and_key_types() -> None:
    a = ConditionalToolRule(tool_name="c", child_output_mapping={1: "x"})
    b = ConditionalToolRule(tool_name="c", child_output_mapping={1.0: "x"})
    c = ConditionalToolRule(tool_name="c", child_output_mapping={True: "x"})
    assert len({a, b, c}) == 3 and a != b and a != c
    assert a == ConditionalToolRule(tool_name="c", child_output_mapping=[(1, "x")])
    assert ChildToolRule(tool_name="t", children=["a"]) != ParentToolRule(
        tool_name="t", children=["a"]
    )
    assert ChildToolRule(tool_name="t", children=["a", "b"]) != ChildToolRule(
        tool_name="t", children=["b", "a"]
    )
    assert InitToolRule(tool_name="t", args={"a": 1}) != InitToolRule(
        tool_name="t", args={"a": 1.0}
    )
    assert hash(InitToolRule(tool_name="t", args={"a": 1, "b": 2})) == hash(
        InitToolRule(tool_name="t", args={"b": 2, "a": 1})
    )
    assert MaxCountPerStepToolRule(tool_name="t", max_count_limit=1) != (
        MaxCountPerStepToolRule(tool_name="t", max_count_limit=2)
    )
    assert TerminalToolRule(tool_name="t") != ContinueToolRule(tool_name="t")


def test_rules_are_frozen() -> None:
    rule = TerminalToolRule(tool_name="t")
    with pytest.raises(ValidationError):
        rule.tool_name = "u"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        (InitToolRule(tool_name="t"), None),
        (
            TerminalToolRule(tool_name="t"),
            "<tool_rule>\nt ends your response (yields control) when called\n</tool_rule>",
        ),
        (
            ContinueToolRule(tool_name="t"),
            "<tool_rule>\nt requires continuing your response when called\n</tool_rule>",
        ),
        (
            ChildToolRule(tool_name="t", children=["a", "b"]),
            "<tool_rule>\nAfter using t, you must use one of these tools: a, b\n</tool_rule>",
        ),
        (
            ParentToolRule(tool_name="t", children=["a", "b"]),
            "<tool_rule>\na, b can only be used after t\n</tool_rule>",
        ),
        (
            ConditionalToolRule(tool_name="t", child_output_mapping={"x": "a"}),
            "<tool_rule>\nt will determine which tool to use next based on its output\n"
            "</tool_rule>",
        ),
        (
            MaxCountPerStepToolRule(tool_name="t", max_count_limit=3),
            "<tool_rule>\nt: at most 3 use(s) per response\n</tool_rule>",
        ),
        (
            RequiredBeforeExitToolRule(tool_name="t"),
            "<tool_rule>t must be called before ending the conversation</tool_rule>",
        ),
        (RequiresApprovalToolRule(tool_name="t"), None),
    ],
)
def test_render_prompt_texts(rule: object, text: str | None) -> None:
    assert rule.render_prompt() == text  # type: ignore[attr-defined]


def test_compiled_prompt_description() -> None:
    assert COMPILED_PROMPT_DESCRIPTION == (
        "The following constraints define rules for tool usage and guide desired behavior. "
        "These rules must be followed to ensure proper tool execution and workflow. "
        "A single response may contain multiple tool calls."
    )


def test_child_args_map() -> None:
    rule = ChildToolRule(
        tool_name="p",
        children=["a", "b", "c"],
        child_arg_nodes=[{"name": "a", "args": {"k": 1}}, {"name": "b"}, {"name": "c", "args": {}}],
    )
    assert rule.get_child_args_map() == {"a": {"k": 1}}
