"""decide(): one table row per rule path (heartbeat, rules, max_steps, approval, refusal)."""

from __future__ import annotations

from typing import Any

import pytest

from letta_batch.schemas import StopReason
from letta_batch.stepping import DecisionAction, HeartbeatKind
from letta_batch.tool_rules import (
    NO_RESPONSE_ERROR,
    ChildToolRule,
    ConditionalToolRule,
    ContinueToolRule,
    InitToolRule,
    MaxCountPerStepToolRule,
    RequiredBeforeExitToolRule,
    RequiresApprovalToolRule,
    TerminalToolRule,
)
from tests.stepping.factories import HB, call_outcome, resp, run, state


@pytest.mark.parametrize(
    ("hb", "cont"),
    [
        (True, True),
        ("True", True),
        ("true", True),
        ("false", False),
        ("False", False),
        (None, False),
        (1, True),
        (0, False),
        ("yes", False),
        (False, False),
    ],
)
def test_request_heartbeat_coercion(hb: Any, cont: bool) -> None:
    args = {"city": "Paris"} if hb is None else {"city": "Paris", "request_heartbeat": hb}
    d = run(call_outcome("get_weather", args))
    assert d.action is DecisionAction.execute_tool
    assert d.continue_stepping is cont
    assert d.request_heartbeat is cont
    assert d.tool_args == {"city": "Paris"}
    assert d.stop_reason is (None if cont else StopReason.end_turn)
    assert d.heartbeat_kind is (HeartbeatKind.normal if cont else None)
    assert d.next_state.tool_rules_solver.tool_call_history == ["get_weather"]
    assert d.next_state.step_number == 1


@pytest.mark.parametrize(
    ("rules", "tool", "args", "cont", "stop"),
    [
        (
            [TerminalToolRule(tool_name="send_message")],
            "send_message",
            HB,
            False,
            StopReason.terminal_tool,
        ),
        (
            [ChildToolRule(tool_name="get_weather", children=["send_message"])],
            "get_weather",
            {},
            True,
            None,
        ),
        (
            [ConditionalToolRule(tool_name="route", child_output_mapping={"a": "search"})],
            "route",
            {},
            True,
            None,
        ),
        ([ContinueToolRule(tool_name="search")], "search", {}, True, None),
        # Fix §8.9: a max-count rule alone does not force continuation.
        (
            [MaxCountPerStepToolRule(tool_name="search", max_count_limit=2)],
            "search",
            {},
            False,
            StopReason.end_turn,
        ),
        # Letta's batch order: children override terminal (conflicting configuration).
        (
            [
                TerminalToolRule(tool_name="get_weather"),
                ChildToolRule(tool_name="get_weather", children=["search"]),
            ],
            "get_weather",
            {},
            True,
            None,
        ),
    ],
    ids=["terminal", "children", "conditional", "continue", "max_count", "terminal+children"],
)
def test_rule_effects(
    rules: list[Any], tool: str, args: dict, cont: bool, stop: StopReason | None
) -> None:
    d = run(call_outcome(tool, args), state(rules))
    assert d.action is DecisionAction.execute_tool
    assert (d.continue_stepping, d.stop_reason) == (cont, stop)


CONDITIONAL = ConditionalToolRule(
    tool_name="route", child_output_mapping={True: "send_message", False: "search"}
)


@pytest.mark.parametrize(
    ("output", "tool", "action"),
    [
        ("true", "send_message", DecisionAction.execute_tool),
        ("True", "search", DecisionAction.refuse_tool),
        ("false", "search", DecisionAction.execute_tool),
        ("false", "send_message", DecisionAction.refuse_tool),
    ],
)
def test_conditional_routing_uses_last_function_response(
    output: str, tool: str, action: DecisionAction
) -> None:
    st = state([CONDITIONAL], ["route"], step=1, last=resp(output))
    assert run(call_outcome(tool), st).action is action


def test_conditional_without_last_response_fails_agent() -> None:
    d = run(call_outcome("search"), state([CONDITIONAL], ["route"], step=1))
    assert d.action is DecisionAction.fail and d.stop_reason is StopReason.tool_rule_error
    assert d.reason == NO_RESPONSE_ERROR and not d.continue_stepping


def test_max_count_refuses_over_limit() -> None:
    st = state([MaxCountPerStepToolRule(tool_name="search", max_count_limit=1)], ["search"], step=1)
    d = run(call_outcome("search", HB), st)
    assert d.action is DecisionAction.refuse_tool
    assert "not allowed" in (d.reason or "") and "search" not in d.reason.split("include:")[1]


def test_init_rule_gates_first_call() -> None:
    st = state([InitToolRule(tool_name="get_weather")])
    assert run(call_outcome("send_message"), st).action is DecisionAction.refuse_tool
    assert run(call_outcome("get_weather"), st).action is DecisionAction.execute_tool


@pytest.mark.parametrize(
    ("step", "max_steps", "cont"), [(0, 1, False), (1, 3, True), (2, 3, False), (5, 3, False)]
)
def test_max_steps_exactness(step: int, max_steps: int, cont: bool) -> None:
    d = run(call_outcome("get_weather", HB), state(step=step), max_steps=max_steps)
    assert d.next_state.step_number == step + 1
    assert d.continue_stepping is cont
    assert d.stop_reason is (None if cont else StopReason.max_steps)


def test_terminal_on_final_step_keeps_terminal_reason() -> None:
    d = run(
        call_outcome("send_message"),
        state([TerminalToolRule(tool_name="send_message")], step=2),
        max_steps=3,
    )
    assert d.stop_reason is StopReason.terminal_tool


REQUIRED = [
    TerminalToolRule(tool_name="send_message"),
    RequiredBeforeExitToolRule(tool_name="save_notes"),
]


def test_required_before_exit_keeps_stepping() -> None:
    d = run(call_outcome("send_message"), state(REQUIRED))
    assert d.continue_stepping and d.stop_reason is None
    assert d.heartbeat_kind is HeartbeatKind.required_tools
    assert d.uncalled_required_tools == ["save_notes"]
    done = run(call_outcome("send_message"), state(REQUIRED, ["save_notes"], step=1))
    assert (done.continue_stepping, done.stop_reason) == (False, StopReason.terminal_tool)


def test_required_tool_not_available_is_ignored() -> None:
    d = run(call_outcome("send_message"), state(REQUIRED), available=["send_message"])
    assert d.stop_reason is StopReason.terminal_tool and d.uncalled_required_tools == []


def test_required_tools_on_final_step_stop_with_max_steps() -> None:
    d = run(call_outcome("send_message"), state(REQUIRED, step=4), max_steps=5)
    assert (d.continue_stepping, d.stop_reason) == (False, StopReason.max_steps)


@pytest.mark.parametrize(
    ("rules", "extra"),
    [([RequiresApprovalToolRule(tool_name="wire_money")], ()), ([], ("wire_money",))],
)
def test_requires_approval_is_not_executed(rules: list[Any], extra: tuple[str, ...]) -> None:
    d = run(call_outcome("wire_money", {"amount": 5, **HB}), state(rules), requires_approval=extra)
    assert d.action is DecisionAction.approval
    assert (d.continue_stepping, d.stop_reason) == (False, StopReason.requires_approval)
    assert d.tool_call is not None and d.tool_call.id in (d.reason or "")
    assert d.tool_args == {"amount": 5} and d.request_heartbeat
    assert d.next_state.tool_rules_solver.tool_call_history == []
    assert d.next_state.step_number == 1


@pytest.mark.parametrize(("step", "cont"), [(0, True), (49, False)])
def test_refused_call(step: int, cont: bool) -> None:
    st = state(last="prev")
    st.step_number = step
    d = run(call_outcome("format_disk", {"path": "/"}), st)
    assert d.action is DecisionAction.refuse_tool
    assert "format_disk" in d.reason and "not allowed" in d.reason  # type: ignore[operator]
    assert d.continue_stepping is cont
    assert d.heartbeat_kind is (HeartbeatKind.failure if cont else None)
    assert d.stop_reason is (None if cont else StopReason.max_steps)
    assert d.next_state.tool_rules_solver.tool_call_history == []
    assert d.next_state.last_function_response == "prev"
    assert d.next_state.step_number == step + 1


def test_refusal_wins_over_approval() -> None:
    st = state([RequiresApprovalToolRule(tool_name="wire_money"), InitToolRule(tool_name="search")])
    assert run(call_outcome("wire_money"), st).action is DecisionAction.refuse_tool
