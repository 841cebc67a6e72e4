"""decide(): failure paths (provider, malformed, text-only, unknown stop) and finalize."""

from __future__ import annotations

import pytest

from letta_batch.schemas import StopReason
from letta_batch.stepping import DecisionAction, HeartbeatKind, finalize_after_tool, parse_result
from letta_batch.tool_rules import (
    ContinueToolRule,
    RequiredBeforeExitToolRule,
    TerminalToolRule,
)
from tests.stepping.factories import (
    CANCELED_ROW,
    ERRORED_ROW,
    EXPIRED_ROW,
    HB,
    call_outcome,
    resp,
    run,
    state,
    succeeded_row,
    text_outcome,
    tool_use,
)

REQUIRED = [
    TerminalToolRule(tool_name="send_message"),
    RequiredBeforeExitToolRule(tool_name="save_notes"),
]


def test_malformed_arguments_fail_agent() -> None:
    out = parse_result(
        succeeded_row([tool_use("search", '{"q": ')]), inner_thoughts_in_kwargs=False
    )
    d = run(out)
    assert (d.action, d.stop_reason) == (DecisionAction.fail, StopReason.invalid_tool_call)
    assert d.tool_call is not None and d.next_state.tool_rules_solver.tool_call_history == []


def test_text_only_reply_fails_agent() -> None:
    d = run(text_outcome())
    assert (d.action, d.stop_reason, d.continue_stepping) == (
        DecisionAction.fail,
        StopReason.no_tool_call,
        False,
    )
    assert d.next_state.step_number == 1


@pytest.mark.parametrize(
    "stop_reason", ["refusal", "pause_turn", "model_context_window_exceeded", None]
)
def test_unknown_stop_reason_fails_agent(stop_reason: str | None) -> None:
    d = run(call_outcome("search", HB, stop_reason=stop_reason))  # type: ignore[arg-type]
    assert (d.action, d.stop_reason) == (DecisionAction.fail, StopReason.unknown_stop_reason)


@pytest.mark.parametrize(
    ("row", "stop", "needle"),
    [
        (ERRORED_ROW, StopReason.provider_error, "not_found_error: model: claude-does-not-exist-9"),
        (EXPIRED_ROW, StopReason.expired, "expired"),
        (CANCELED_ROW, StopReason.canceled, "canceled"),
    ],
)
def test_provider_failures(row: dict, stop: StopReason, needle: str) -> None:
    d = run(parse_result(row, inner_thoughts_in_kwargs=False), state(step=3))
    assert (d.action, d.stop_reason, d.continue_stepping) == (DecisionAction.fail, stop, False)
    assert needle in (d.reason or "")
    assert d.next_state.step_number == 3  # no model call was made


def test_inner_thoughts_popped_and_input_state_untouched() -> None:
    st = state([ContinueToolRule(tool_name="search")])
    before = st.model_dump()
    d = run(call_outcome("search", {"q": "x", "thinking": "hmm"}), st)
    assert d.inner_thoughts == "hmm" and d.tool_args == {"q": "x"}
    assert st.model_dump() == before


def test_invalid_max_steps() -> None:
    with pytest.raises(ValueError, match="max_steps"):
        run(call_outcome("search"), max_steps=0)


def test_finalize_after_tool() -> None:
    d = run(call_outcome("search", HB))
    ok = finalize_after_tool(d, True, resp("found"))
    assert (
        ok.heartbeat_kind is HeartbeatKind.normal
        and ok.next_state.last_function_response == resp("found")
    )
    bad = finalize_after_tool(d, False, resp("boom"))
    assert bad.heartbeat_kind is HeartbeatKind.failure and bad.continue_stepping
    assert d.next_state.last_function_response is None  # input untouched
    req = run(call_outcome("send_message"), state(REQUIRED))
    assert finalize_after_tool(req, False, resp("x")).heartbeat_kind is HeartbeatKind.required_tools
    stop = run(call_outcome("search"))
    assert finalize_after_tool(stop, False, resp("x")).heartbeat_kind is None
    with pytest.raises(ValueError, match="execute_tool"):
        finalize_after_tool(run(text_outcome()), True, "{}")
