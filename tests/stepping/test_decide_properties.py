"""Property tests of decide(): deterministic, pure, never past max_steps."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from letta_batch.schemas import AgentStepState
from letta_batch.stepping import DecisionAction, StepOutcome, decide, parse_result
from letta_batch.tool_rules import (
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
from tests.stepping.factories import (
    CANCELED_ROW,
    ERRORED_ROW,
    EXPIRED_ROW,
    succeeded_row,
    text,
    tool_use,
)

TOOLS = ["a", "b", "c", "d"]
names = st.sampled_from(TOOLS)
children = st.lists(names, min_size=1, max_size=3, unique=True)

rules = st.one_of(
    st.builds(InitToolRule, tool_name=names),
    st.builds(TerminalToolRule, tool_name=names),
    st.builds(ContinueToolRule, tool_name=names),
    st.builds(ChildToolRule, tool_name=names, children=children),
    st.builds(ParentToolRule, tool_name=names, children=children),
    st.builds(MaxCountPerStepToolRule, tool_name=names, max_count_limit=st.integers(1, 3)),
    st.builds(RequiredBeforeExitToolRule, tool_name=names),
    st.builds(RequiresApprovalToolRule, tool_name=names),
    st.builds(
        ConditionalToolRule,
        tool_name=names,
        child_output_mapping=st.dictionaries(st.sampled_from(["yes", "no"]), names, min_size=1),
        default_child=st.none() | names,
    ),
)

heartbeats = st.sampled_from([True, False, "true", "False", None, 1, "maybe"])
last_responses = st.none() | st.sampled_from(
    ['{"message": "yes"}', '{"message": "no"}', "not json"]
)


@st.composite
def outcomes(draw: Any) -> StepOutcome:
    kind = draw(st.sampled_from(["call", "call", "call", "text", "bad_args", "provider"]))
    if kind == "provider":
        row = draw(st.sampled_from([ERRORED_ROW, EXPIRED_ROW, CANCELED_ROW]))
        return parse_result(row, inner_thoughts_in_kwargs=False)
    stop = draw(st.sampled_from(["tool_use", "tool_use", "end_turn", "max_tokens", "refusal"]))
    if kind == "text":
        content = [text("hi")]
    elif kind == "bad_args":
        content = [tool_use(draw(st.sampled_from([*TOOLS, "zz"])), "{oops")]
    else:
        args: dict[str, Any] = {"x": 1}
        hb = draw(heartbeats)
        if hb is not None:
            args["request_heartbeat"] = hb
        content = [tool_use(draw(st.sampled_from([*TOOLS, "zz"])), args)]
    return parse_result(succeeded_row(content, stop), inner_thoughts_in_kwargs=False)


@st.composite
def states(draw: Any) -> AgentStepState:
    solver = ToolRulesSolver(
        tool_rules=draw(st.lists(rules, max_size=5)),
        tool_call_history=draw(st.lists(names, max_size=4)),
    )
    return AgentStepState(
        step_number=draw(st.integers(0, 12)),
        tool_rules_solver=solver,
        last_function_response=draw(last_responses),
    )


@settings(max_examples=400, deadline=None)
@given(
    outcome=outcomes(),
    state=states(),
    available=st.lists(names, unique=True),
    max_steps=st.integers(1, 10),
)
def test_decide_properties(
    outcome: StepOutcome, state: AgentStepState, available: list[str], max_steps: int
) -> None:
    before = state.model_dump(mode="json")
    first = decide(outcome, state, available_tools=available, max_steps=max_steps)
    second = decide(outcome, state, available_tools=available, max_steps=max_steps)

    # Pure and deterministic.
    assert state.model_dump(mode="json") == before
    assert first.model_dump(mode="json") == second.model_dump(mode="json")

    # Never continues past max_steps; a stop always has a reason; heartbeats only when going on.
    if first.continue_stepping:
        assert first.next_state.step_number < max_steps
        assert first.stop_reason is None and first.heartbeat_kind is not None
    else:
        assert first.stop_reason is not None and first.heartbeat_kind is None

    # Exactly one model call is counted for every succeeded result, none otherwise.
    expected_step = state.step_number + (1 if outcome.succeeded else 0)
    assert first.next_state.step_number == expected_step

    # Only executed calls enter the history.
    history = state.tool_rules_solver.tool_call_history
    new_history = first.next_state.tool_rules_solver.tool_call_history
    if first.action is DecisionAction.execute_tool:
        assert first.tool_call is not None
        assert new_history == [*history, first.tool_call.name]
        assert first.tool_call.name in available
    else:
        assert new_history == history
    if first.action in (DecisionAction.fail, DecisionAction.approval):
        assert not first.continue_stepping

    # The decision survives the JSON round trip it takes through the database.
    assert type(first).model_validate_json(first.model_dump_json()) == first
