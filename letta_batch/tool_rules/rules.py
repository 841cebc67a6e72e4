"""Tool rule models: Letta's nine rule types in Letta's JSON shape, discriminated by ``type``.

``model_dump(mode="json")`` gives Letta's shape except ``ConditionalToolRule``'s
``child_output_mapping``, which is a typed list so key types survive JSON (see
``letta_batch.tool_rules.conditional``). ``TOOL_RULE_ADAPTER`` validates/dumps rule lists.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter, model_validator

from letta_batch.tool_rules import prompts
from letta_batch.tool_rules.base import BaseToolRule, ToolRuleType, freeze_json, last_tool
from letta_batch.tool_rules.conditional import ConditionalToolRule, MappingKey


class InitToolRule(BaseToolRule):
    """``run_first``: while the history is empty only init tools may be called."""

    type: Literal[ToolRuleType.run_first] = ToolRuleType.run_first
    args: dict[str, JsonValue] | None = Field(
        default=None, description="Arguments prefilled for the first call."
    )

    def _extra_identity(self) -> tuple[Hashable, ...]:
        return (freeze_json(self.args),)


class TerminalToolRule(BaseToolRule):
    """``exit_loop``: calling the tool ends the agent loop."""

    type: Literal[ToolRuleType.exit_loop] = ToolRuleType.exit_loop

    def render_prompt(self) -> str | None:
        return prompts.terminal_prompt(self.tool_name)


class ContinueToolRule(BaseToolRule):
    """``continue_loop``: calling the tool continues the agent loop."""

    type: Literal[ToolRuleType.continue_loop] = ToolRuleType.continue_loop

    def render_prompt(self) -> str | None:
        return prompts.continue_prompt(self.tool_name)


class RequiredBeforeExitToolRule(BaseToolRule):
    """``required_before_exit``: the tool must be called before the loop may end."""

    type: Literal[ToolRuleType.required_before_exit] = ToolRuleType.required_before_exit

    def render_prompt(self) -> str | None:
        return prompts.required_before_exit_prompt(self.tool_name)


class RequiresApprovalToolRule(BaseToolRule):
    """``requires_approval``: the tool needs human approval before it runs."""

    type: Literal[ToolRuleType.requires_approval] = ToolRuleType.requires_approval


class ToolCallNode(BaseModel):
    """A child tool plus arguments to prefill when it directly follows its parent."""

    model_config = ConfigDict(frozen=True, allow_inf_nan=False)

    name: str = Field(description="Child tool name; must be one of the rule's children.")
    args: dict[str, JsonValue] | None = Field(default=None, description="Prefilled arguments.")


class ChildToolRule(BaseToolRule):
    """``constrain_child_tools``: right after the tool, only ``children`` may be called."""

    type: Literal[ToolRuleType.constrain_child_tools] = ToolRuleType.constrain_child_tools
    children: list[str] = Field(description="Tools allowed right after ``tool_name``.")
    child_arg_nodes: list[ToolCallNode] | None = Field(
        default=None, description="Per-child prefilled arguments (names ⊆ children)."
    )

    @model_validator(mode="after")
    def _nodes_are_children(self) -> ChildToolRule:
        for i, node in enumerate(self.child_arg_nodes or []):
            if node.name not in self.children:
                raise ValueError(
                    f"child_arg_nodes[{i}].name={node.name!r} is not in children="
                    f"{self.children!r} of the rule for {self.tool_name!r}"
                )
        return self

    def _extra_identity(self) -> tuple[Hashable, ...]:
        nodes = None
        if self.child_arg_nodes is not None:
            nodes = tuple((n.name, freeze_json(n.args)) for n in self.child_arg_nodes)
        return (tuple(self.children), nodes)

    def get_child_args_map(self) -> dict[str, dict[str, JsonValue]]:
        """Child name → prefilled args for nodes with non-empty args (later nodes win)."""
        return {n.name: dict(n.args) for n in self.child_arg_nodes or [] if n.args}

    def get_valid_tools(
        self,
        tool_call_history: Sequence[str],
        available_tools: Iterable[str],
        last_function_response: str | None,
    ) -> set[str]:
        if last_tool(tool_call_history) == self.tool_name:
            return set(self.children)
        return set(available_tools)

    def render_prompt(self) -> str | None:
        return prompts.child_prompt(self.tool_name, self.children)

    @property
    def requires_force_tool_call(self) -> bool:
        return True


class ParentToolRule(BaseToolRule):
    """``parent_last_tool``: ``children`` may only be called right after the tool."""

    type: Literal[ToolRuleType.parent_last_tool] = ToolRuleType.parent_last_tool
    children: list[str] = Field(description="Tools gated behind ``tool_name``.")

    def _extra_identity(self) -> tuple[Hashable, ...]:
        return (tuple(self.children),)

    def get_valid_tools(
        self,
        tool_call_history: Sequence[str],
        available_tools: Iterable[str],
        last_function_response: str | None,
    ) -> set[str]:
        if last_tool(tool_call_history) == self.tool_name:
            return set(self.children)
        return set(available_tools) - set(self.children)

    def render_prompt(self) -> str | None:
        return prompts.parent_prompt(self.tool_name, self.children)

    @property
    def requires_force_tool_call(self) -> bool:
        return True


class MaxCountPerStepToolRule(BaseToolRule):
    """``max_count_per_step``: the tool is dropped once called ``max_count_limit`` times.

    The count runs over the whole history, which in batch spans every step of the run.
    """

    type: Literal[ToolRuleType.max_count_per_step] = ToolRuleType.max_count_per_step
    max_count_limit: int = Field(ge=1, description="Calls allowed over the whole history.")

    def _extra_identity(self) -> tuple[Hashable, ...]:
        return (self.max_count_limit,)

    def get_valid_tools(
        self,
        tool_call_history: Sequence[str],
        available_tools: Iterable[str],
        last_function_response: str | None,
    ) -> set[str]:
        available = set(available_tools)
        if list(tool_call_history).count(self.tool_name) >= self.max_count_limit:
            return available - {self.tool_name}
        return available

    def render_prompt(self) -> str | None:
        return prompts.max_count_prompt(self.tool_name, self.max_count_limit)


ToolRule = Annotated[
    InitToolRule
    | TerminalToolRule
    | ContinueToolRule
    | ConditionalToolRule
    | ChildToolRule
    | MaxCountPerStepToolRule
    | ParentToolRule
    | RequiredBeforeExitToolRule
    | RequiresApprovalToolRule,
    Field(discriminator="type"),
]
"""Any tool rule, discriminated by ``type``."""

TOOL_RULE_ADAPTER: TypeAdapter[list[ToolRule]] = TypeAdapter(list[ToolRule])
"""Validates a list of rule dicts/models and dumps it (``dump_python(..., mode="json")``)."""

__all__ = [
    "TOOL_RULE_ADAPTER",
    "BaseToolRule",
    "ChildToolRule",
    "ConditionalToolRule",
    "ContinueToolRule",
    "InitToolRule",
    "MappingKey",
    "MaxCountPerStepToolRule",
    "ParentToolRule",
    "RequiredBeforeExitToolRule",
    "RequiresApprovalToolRule",
    "TerminalToolRule",
    "ToolCallNode",
    "ToolRule",
    "ToolRuleType",
]
