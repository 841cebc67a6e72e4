"""Property tests: lossless JSON, sorted/deterministic allowed sets, consistent helpers."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from letta_batch.tool_rules import (
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
    ToolRulesSolver,
)

NAMES = st.sampled_from(["a", "b", "c", "d", "e"])
KEYS = st.one_of(
    st.booleans(),
    st.integers(-3, 3),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["1", "1.0", "true", "True", "false", "x", ""]),
    st.text(max_size=4),
)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)
ARGS = st.none() | st.dictionaries(st.text(max_size=3), JSON_VALUES, max_size=3)
TEMPLATE = st.none() | st.text(max_size=6)


@st.composite
def child_rules(draw: st.DrawFn) -> ChildToolRule:
    children = draw(st.lists(NAMES, max_size=4))
    nodes = None
    if children and draw(st.booleans()):
        nodes = [{"name": n, "args": draw(ARGS)} for n in draw(st.lists(st.sampled_from(children)))]
    return ChildToolRule(
        tool_name=draw(NAMES),
        children=children,
        child_arg_nodes=nodes,
        prompt_template=draw(TEMPLATE),
    )


@st.composite
def conditional_rules(draw: st.DrawFn) -> ConditionalToolRule:
    entries = draw(
        st.lists(st.tuples(KEYS, NAMES), min_size=1, max_size=4, unique_by=lambda e: e[0])
    )
    mapping: Any = (
        [{"key": k, "tool": t} for k, t in entries] if draw(st.booleans()) else dict(entries)
    )
    return ConditionalToolRule(
        tool_name=draw(NAMES),
        child_output_mapping=mapping,
        default_child=draw(st.none() | NAMES),
        require_output_mapping=draw(st.booleans()),
    )


def _simple(cls: type) -> st.SearchStrategy[Any]:
    return st.builds(cls, tool_name=NAMES, prompt_template=TEMPLATE)


RULES = st.one_of(
    st.builds(InitToolRule, tool_name=NAMES, args=ARGS),
    _simple(TerminalToolRule),
    _simple(ContinueToolRule),
    _simple(RequiredBeforeExitToolRule),
    _simple(RequiresApprovalToolRule),
    child_rules(),
    conditional_rules(),
    st.builds(ParentToolRule, tool_name=NAMES, children=st.lists(NAMES, max_size=3)),
    st.builds(MaxCountPerStepToolRule, tool_name=NAMES, max_count_limit=st.integers(1, 3)),
)
RULE_LISTS = st.lists(RULES, max_size=6)
HISTORIES = st.lists(NAMES, max_size=6)
AVAILABLE = st.sets(NAMES)
RESPONSES = st.one_of(
    st.none(),
    st.just(""),
    st.text(max_size=5),
    KEYS.map(lambda k: json.dumps({"message": k})),
    KEYS.map(lambda k: json.dumps({"message": str(k)})),
)


def _typed(rules: list[Any]) -> list[Any]:
    # Rule equality already includes key types; this also pins the dumped JSON text.
    return TOOL_RULE_ADAPTER.dump_python(rules, mode="json")


@given(RULE_LISTS)
def test_rule_list_json_roundtrip_is_lossless(rules: list[Any]) -> None:
    text = json.dumps(TOOL_RULE_ADAPTER.dump_python(rules, mode="json"))
    back = TOOL_RULE_ADAPTER.validate_python(json.loads(text))
    assert back == rules
    assert json.dumps(_typed(back)) == text
    assert TOOL_RULE_ADAPTER.validate_json(TOOL_RULE_ADAPTER.dump_json(rules)) == rules
    for rule, other in zip(rules, back, strict=True):
        assert type(rule) is type(other) and hash(rule) == hash(other)
        assert rule.prompt_template == other.prompt_template
        if isinstance(rule, ConditionalToolRule):
            assert isinstance(other, ConditionalToolRule)
            assert [type(k) for k in rule.child_output_mapping] == [
                type(k) for k in other.child_output_mapping
            ]


@given(RULE_LISTS, HISTORIES)
def test_solver_json_roundtrip_is_lossless(rules: list[Any], history: list[str]) -> None:
    solver = ToolRulesSolver(tool_rules=rules, tool_call_history=history)
    data = solver.to_json()
    for back in (
        ToolRulesSolver.from_json(json.loads(json.dumps(data))),
        ToolRulesSolver.from_json(solver.model_dump_json()),
    ):
        assert back == solver
        assert json.dumps(back.to_json()) == json.dumps(data)


def _outcome(
    solver: ToolRulesSolver, available: set[str], error_on_empty: bool, resp: str | None
) -> tuple[str, Any]:
    try:
        return ("ok", solver.get_allowed_tool_names(available, error_on_empty, resp))
    except ValueError as exc:
        return ("error", str(exc))


@given(RULE_LISTS, HISTORIES, AVAILABLE, st.booleans(), RESPONSES, st.randoms())
@settings(max_examples=300)
def test_allowed_sorted_subset_and_order_independent(
    rules: list[Any],
    history: list[str],
    available: set[str],
    error_on_empty: bool,
    resp: str | None,
    rnd: Any,
) -> None:
    solver = ToolRulesSolver(tool_rules=rules, tool_call_history=history)
    outcome = _outcome(solver, available, error_on_empty, resp)
    shuffled = list(rules)
    rnd.shuffle(shuffled)
    other = ToolRulesSolver(tool_rules=shuffled, tool_call_history=history)
    assert _outcome(other, available, error_on_empty, resp) == outcome
    assert _outcome(solver, set(sorted(available, reverse=True)), error_on_empty, resp) == outcome
    if outcome[0] == "error":
        return
    result = outcome[1]
    assert result == sorted(set(result))
    init_case = not history and any(isinstance(r, InitToolRule) for r in rules)
    if init_case:
        assert set(result) == {r.tool_name for r in rules if isinstance(r, InitToolRule)}
    else:
        assert set(result) <= available
        assert result or not error_on_empty
    assert set(solver.get_prefilled_args()) <= set(result) & available


@given(RULE_LISTS, HISTORIES, NAMES)
def test_register_and_membership_helpers_consistent(
    rules: list[Any], history: list[str], name: str
) -> None:
    solver = ToolRulesSolver(tool_rules=rules, tool_call_history=list(history))
    solver.register_tool_call(name)
    assert solver.tool_call_history == [*history, name]

    def named(*kinds: type) -> bool:
        return any(isinstance(r, kinds) and r.tool_name == name for r in rules)

    assert solver.is_terminal_tool(name) == named(TerminalToolRule)
    assert solver.is_continue_tool(name) == named(ContinueToolRule)
    assert solver.is_requires_approval_tool(name) == named(RequiresApprovalToolRule)
    assert solver.has_children_tools(name) == named(
        ChildToolRule, ConditionalToolRule, MaxCountPerStepToolRule
    )
    assert solver.should_force_tool_call() == named(
        ChildToolRule, ConditionalToolRule, ParentToolRule
    )
    required = {r.tool_name for r in rules if isinstance(r, RequiredBeforeExitToolRule)}
    uncalled = solver.get_uncalled_required_tools({"a", "b", "c", "d", "e"})
    assert uncalled == sorted(required - set(solver.tool_call_history))
    assert name not in uncalled
    solver.clear_tool_history()
    assert solver.tool_call_history == []
    assert solver.should_force_tool_call() == any(isinstance(r, InitToolRule) for r in rules)


@given(RULE_LISTS)
def test_compiled_prompt_matches_rule_renders(rules: list[Any]) -> None:
    compiled = ToolRulesSolver(tool_rules=rules).compile_tool_rule_prompts()
    groups: list[tuple[type, ...]] = [
        (ContinueToolRule,),
        (ChildToolRule, ConditionalToolRule, MaxCountPerStepToolRule),
        (ParentToolRule,),
        (TerminalToolRule,),
    ]
    expected = [r.render_prompt() for kinds in groups for r in rules if isinstance(r, kinds)]
    assert compiled == ("\n".join(str(t) for t in expected) if expected else None)
    # Compiled once per rule-object sequence: a second solver over the same rules is served
    # from the cache, and a fresh copy of the rules (other objects) compiles the same text.
    assert ToolRulesSolver(tool_rules=rules).compile_tool_rule_prompts() == compiled
    copies = [type(r).model_validate(r.model_dump()) for r in rules]
    assert ToolRulesSolver(tool_rules=copies).compile_tool_rule_prompts() == compiled
