"""Shared pieces of the tool rule models: the ``type`` enum and the rule base class."""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable, Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ToolRuleType(StrEnum):
    """Letta's ``ToolRuleType`` values (the ``type`` discriminator)."""

    run_first = "run_first"
    exit_loop = "exit_loop"
    continue_loop = "continue_loop"
    conditional = "conditional"
    constrain_child_tools = "constrain_child_tools"
    max_count_per_step = "max_count_per_step"
    parent_last_tool = "parent_last_tool"
    required_before_exit = "required_before_exit"
    requires_approval = "requires_approval"


def freeze_json(value: Any) -> str:
    """Canonical JSON text of ``value``: hashable, and keeps ``1``/``1.0``/``true`` distinct."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def last_tool(history: Sequence[str]) -> str | None:
    """The most recently called tool, or None for an empty history."""
    return history[-1] if history else None


class BaseToolRule(BaseModel):
    """Fields shared by every rule.

    Rules are frozen. Equality and hash use (tool_name, type, type-specific fields);
    ``prompt_template`` is excluded because it is never rendered. Unknown input fields are
    ignored (older Letta dumps carry ``args`` on every rule type).
    """

    # allow_inf_nan=False: NaN/inf would not survive a JSON round trip.
    model_config = ConfigDict(frozen=True, allow_inf_nan=False)

    tool_name: str = Field(min_length=1, description="Tool the rule is about.")
    type: ToolRuleType = Field(description="Rule type (discriminator).")
    prompt_template: str | None = Field(
        default=None, description="Accepted for Letta compatibility; never rendered."
    )

    def _extra_identity(self) -> tuple[Hashable, ...]:
        """Type-specific fields that take part in equality and hashing."""
        return ()

    def _identity(self) -> tuple[Hashable, ...]:
        return (self.tool_name, str(self.type), *self._extra_identity())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BaseToolRule):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def get_valid_tools(
        self,
        tool_call_history: Sequence[str],
        available_tools: Iterable[str],
        last_function_response: str | None,
    ) -> set[str]:
        """Tools this rule allows next; rules that do not filter return ``available_tools``."""
        return set(available_tools)

    def render_prompt(self) -> str | None:
        """The rule's ``<tool_rule>`` text, or None for rules without one."""
        return None

    @property
    def requires_force_tool_call(self) -> bool:
        """Whether this rule, once its tool was the last call, forces a tool call next."""
        return False
