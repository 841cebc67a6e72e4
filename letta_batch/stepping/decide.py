"""``decide``: what one agent does after one model call (Letta's
``_extract_tool_call_and_decide_continue``, spec §3 "Decide", with the §8 fixes).

Pure: the input state is never mutated; ``Decision.next_state`` is a fresh copy.

Step counting. ``state.step_number`` is the number of model calls this agent has already
made *before* the one being decided. After a succeeded call ``next_state.step_number`` is
``state.step_number + 1`` (the calls made so far) and the agent may continue only while that
is ``< max_steps``, so an agent makes **at most exactly ``max_steps`` model calls** (Letta
allowed ``max_steps + 1``, §8.11). An errored / expired / canceled request made no call, so
the count is kept.

Order of checks (first match wins): provider failure → unknown ``stop_reason`` → no tool
call → malformed arguments → tool-rule error → refused call (outside the allowed set or not
attached) → approval required → execute. Refusal is checked before approval: a call the
rules forbid is never surfaced for approval.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from letta_batch.schemas.batch import AgentStepState
from letta_batch.schemas.enums import StopReason
from letta_batch.stepping.constants import (
    INNER_THOUGHTS_KWARG,
    KNOWN_STOP_REASONS,
    REQUEST_HEARTBEAT_PARAM,
)
from letta_batch.stepping.heartbeat import HeartbeatKind
from letta_batch.stepping.outcome import ParsedToolCall, StepOutcome
from letta_batch.tool_rules import ChildToolRule, ConditionalToolRule, ToolRulesSolver


class DecisionAction(StrEnum):
    """What happens with the model's tool call."""

    execute_tool = "execute_tool"
    refuse_tool = "refuse_tool"  # not executed; a failed tool return is recorded
    fail = "fail"  # the agent stops with an error stop reason
    approval = "approval"  # not executed; the agent waits for approval


class Decision(BaseModel):
    """The outcome of ``decide`` for one agent in one step (stored on the item)."""

    action: DecisionAction
    continue_stepping: bool
    stop_reason: StopReason | None = None
    """Set exactly when ``continue_stepping`` is False."""
    reason: str | None = None
    """Human-readable detail: error text, refusal text (the failed tool return), pending call."""
    tool_call: ParsedToolCall | None = None
    tool_args: dict[str, Any] = Field(default_factory=dict)
    """Arguments with ``request_heartbeat`` and the inner-thoughts kwarg removed."""
    request_heartbeat: bool = False
    """What the model asked for (persisted in the assistant message's arguments)."""
    inner_thoughts: str | None = None
    heartbeat_kind: HeartbeatKind | None = None
    """Which heartbeat follows when continuing; None when the agent stops."""
    uncalled_required_tools: list[str] = Field(default_factory=list)
    next_state: AgentStepState


def refusal_message(tool_name: str, allowed: Collection[str]) -> str:
    """Failed tool return for a refused call (after Letta's ``[ToolConstraintError]``)."""
    return (
        f"[ToolConstraintError] Cannot call {tool_name}: it is not allowed by the tool rules "
        f"at this point. Valid tools include: {sorted(allowed)}."
    )


def _pop_heartbeat(args: dict[str, Any]) -> bool:
    value = args.pop(REQUEST_HEARTBEAT_PARAM, False)
    return value.lower() == "true" if isinstance(value, str) else bool(value)


def _forces_continuation(solver: ToolRulesSolver, name: str) -> bool:
    # Letta's has_children_tools also counts max-count rules, so a capped tool always
    # continued (§8.9); only child and conditional rules route to a next tool.
    return any(
        isinstance(rule, ChildToolRule | ConditionalToolRule) and rule.tool_name == name
        for rule in solver.child_based_tool_rules
    )


_PROVIDER_FAILURES: dict[str, tuple[StopReason, str]] = {
    "errored": (StopReason.provider_error, "the provider returned an error"),
    "expired": (StopReason.expired, "the request expired before the provider processed it"),
    "canceled": (StopReason.canceled, "the request was canceled before it was processed"),
}


def failed_decision(
    state: AgentStepState, stop: StopReason, reason: str, **fields: Any
) -> Decision:
    """The agent stops with ``stop`` and ``reason``; ``state`` is its next state."""
    return Decision(
        action=DecisionAction.fail,
        continue_stepping=False,
        stop_reason=stop,
        reason=reason,
        next_state=state,
        **fields,
    )


def _provider_failure(outcome: StepOutcome, state: AgentStepState) -> Decision:
    stop, default = _PROVIDER_FAILURES.get(outcome.result_type, _PROVIDER_FAILURES["errored"])
    detail = ": ".join(p for p in (outcome.error_type, outcome.error_message) if p)
    return failed_decision(state.branch(), stop, detail or default)


def decide(
    outcome: StepOutcome,
    state: AgentStepState,
    *,
    available_tools: Collection[str],
    max_steps: int,
    requires_approval: Collection[str] = (),
) -> Decision:
    """Decide execute / refuse / fail / approval and whether the agent keeps stepping.

    ``available_tools``: names of the tools attached to the agent and offered to the model.
    ``requires_approval``: extra tool names needing approval (e.g. tools flagged
    ``default_requires_approval``) besides ``requires_approval`` rules.
    """
    if max_steps < 1:
        raise ValueError(f"max_steps must be >= 1, got {max_steps}")
    if not outcome.succeeded:
        return _provider_failure(outcome, state)

    next_state = state.branch()
    next_state.step_number = state.step_number + 1
    if outcome.stop_reason not in KNOWN_STOP_REASONS:
        reason = f"unknown stop_reason {outcome.stop_reason!r}"
        return failed_decision(next_state, StopReason.unknown_stop_reason, reason)
    call = outcome.tool_call
    if call is None:
        reason = f"the model replied without a tool call (stop_reason={outcome.stop_reason})"
        return failed_decision(next_state, StopReason.no_tool_call, reason)
    if call.input is None:
        reason = f"malformed arguments for {call.name}: {call.parse_error}"
        return failed_decision(next_state, StopReason.invalid_tool_call, reason, tool_call=call)

    args = dict(call.input)
    heartbeat = _pop_heartbeat(args)
    thoughts = args.pop(INNER_THOUGHTS_KWARG, None)
    common: dict[str, Any] = {
        "tool_call": call,
        "tool_args": args,
        "request_heartbeat": heartbeat,
        "inner_thoughts": thoughts if isinstance(thoughts, str) else outcome.inner_thoughts,
    }
    available = set(available_tools)
    solver = next_state.tool_rules_solver
    try:
        allowed = solver.get_allowed_tool_names(
            available, error_on_empty=False, last_function_response=state.last_function_response
        )
    except ValueError as exc:
        return failed_decision(next_state, StopReason.tool_rule_error, str(exc), **common)
    final_step = next_state.step_number >= max_steps

    if call.name not in allowed or call.name not in available:
        # Not executed and not registered; last_function_response is kept, so conditional
        # routing still applies to the retry.
        return Decision(
            action=DecisionAction.refuse_tool,
            continue_stepping=not final_step,
            stop_reason=StopReason.max_steps if final_step else None,
            reason=refusal_message(call.name, set(allowed) & available),
            heartbeat_kind=None if final_step else HeartbeatKind.failure,
            next_state=next_state,
            **common,
        )
    if solver.is_requires_approval_tool(call.name) or call.name in requires_approval:
        # Not executed, so not registered: approval (out of scope here) runs it later.
        return Decision(
            action=DecisionAction.approval,
            continue_stepping=False,
            stop_reason=StopReason.requires_approval,
            reason=f"{call.name} requires approval (pending tool call {call.id})",
            next_state=next_state,
            **common,
        )

    solver.register_tool_call(call.name)
    # Letta's batch order: heartbeat, then terminal -> stop, children -> go, continue -> go.
    cont = heartbeat
    if solver.is_terminal_tool(call.name):
        cont = False
    if _forces_continuation(solver, call.name):
        cont = True
    if solver.is_continue_tool(call.name):
        cont = True
    kind: HeartbeatKind | None = HeartbeatKind.normal if cont else None
    uncalled: list[str] = []
    if not cont:
        uncalled = solver.get_uncalled_required_tools(available)
        if uncalled:
            cont, kind = True, HeartbeatKind.required_tools

    stop: StopReason | None = None
    if cont and final_step:
        cont, kind, stop = False, None, StopReason.max_steps
    elif not cont:
        stop = (
            StopReason.terminal_tool if solver.is_terminal_tool(call.name) else StopReason.end_turn
        )
    return Decision(
        action=DecisionAction.execute_tool,
        continue_stepping=cont,
        stop_reason=stop,
        heartbeat_kind=kind,
        uncalled_required_tools=uncalled,
        next_state=next_state,
        **common,
    )


def finalize_after_tool(
    decision: Decision, tool_succeeded: bool, function_response: str
) -> Decision:
    """Fold an executed tool's result into ``decision`` (pure; returns a new Decision).

    ``function_response`` is the packaged tool return JSON (``{"status","message","time"}``);
    it becomes ``next_state.last_function_response`` for conditional rules. Continuation is
    unchanged (Letta decides before execution); a failed tool turns a ``normal`` heartbeat
    into Letta's "Function call failed" one.
    """
    if decision.action is not DecisionAction.execute_tool:
        raise ValueError(
            f"finalize_after_tool needs an execute_tool decision, got {decision.action}"
        )
    next_state = decision.next_state.branch()
    next_state.last_function_response = function_response
    kind = decision.heartbeat_kind
    if kind is HeartbeatKind.normal and not tool_succeeded:
        kind = HeartbeatKind.failure
    return decision.model_copy(update={"next_state": next_state, "heartbeat_kind": kind})
