"""``ToolRulesSolver``: Letta's tool-rule state machine (spec §2), pure and deterministic.

Persisted state is exactly ``{"tool_rules": [...], "tool_call_history": [...]}`` (rule lists
per category are derived, the prefilled-args cache is private), so ``to_json()`` →
``from_json()`` gives an equal solver. Unlike Letta, results are sorted and de-duplicated, and
the prefilled-args cache is cleared before each evaluation (Letta keeps it stale on errors).
"""

from __future__ import annotations

import copy
import functools
import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, cast

from pydantic import BaseModel, Field, JsonValue, PrivateAttr, field_validator

from letta_batch.tool_rules.base import BaseToolRule, last_tool
from letta_batch.tool_rules.rule_cache import shared_rule_list
from letta_batch.tool_rules.rules import (
    ChildToolRule,
    ConditionalToolRule,
    ContinueToolRule,
    InitToolRule,
    MaxCountPerStepToolRule,
    ParentToolRule,
    RequiredBeforeExitToolRule,
    RequiresApprovalToolRule,
    TerminalToolRule,
    ToolRule,
)

NO_VALID_TOOLS_ERROR = "No valid tools found based on tool rules."
"""Letta's ValueError text when the allowed set is empty and ``error_on_empty`` is set."""

PrefilledArgs = dict[str, dict[str, JsonValue]]
ChildBasedRule = ChildToolRule | ConditionalToolRule | MaxCountPerStepToolRule
_R = TypeVar("_R", bound=BaseToolRule)


#: What is derived from a rule sequence alone (views by kinds, compiled prompts), by (ids of
#: the rule objects, what) → (the rules, the value); see ``ToolRulesSolver._remembered``.
_DERIVED: dict[tuple[tuple[int, ...], Any], tuple[tuple[Any, ...], Any]] = {}
#: Distinct (rule sequence, what) pairs remembered; a fleet has a handful.
_DERIVED_MAX = 4096
#: ``_remembered`` key of the compiled prompts (views are keyed by their kinds).
_PROMPTS = "prompts"


class ToolRulesSolver(BaseModel):
    """Tool rules plus the history of called tools; decides which tools are allowed next."""

    tool_rules: list[ToolRule] = Field(default_factory=list, description="Rules, in order.")
    tool_call_history: list[str] = Field(
        default_factory=list, description="Names of the tools called so far (whole run)."
    )

    _prefilled_args: PrefilledArgs = PrivateAttr(default_factory=dict)
    _prefilled_provenance: dict[str, str] = PrivateAttr(default_factory=dict)

    @field_validator("tool_rules", "tool_call_history", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("tool_rules", mode="before")
    @classmethod
    def _shared_rules(cls, value: Any) -> Any:
        return shared_rule_list(value)

    def __eq__(self, other: object) -> bool:
        # Only persisted state counts; the prefilled-args cache is derived.
        if not isinstance(other, ToolRulesSolver):
            return NotImplemented
        same_history = self.tool_call_history == other.tool_call_history
        return same_history and self.tool_rules == other.tool_rules

    def branch(self) -> ToolRulesSolver:
        """An independent copy for the next step, far cheaper than a deep copy.

        Rules are never changed after construction (frozen), so the copy shares the rule
        objects and gets its own rule list and call history (the only state that changes);
        the prefilled-args cache starts empty, as it is rebuilt before each evaluation.
        """
        copied = self.model_copy()  # shallow: fields set, no validation
        copied.__dict__["tool_rules"] = list(self.tool_rules)
        copied.__dict__["tool_call_history"] = list(self.tool_call_history)
        copied._prefilled_args = {}
        copied._prefilled_provenance = {}
        return copied

    # --- persistence -------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict ``{"tool_rules": [...], "tool_call_history": [...]}``."""
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str | bytes) -> ToolRulesSolver:
        """Inverse of ``to_json()``; also accepts the JSON text."""
        if isinstance(data, str | bytes):
            return cls.model_validate_json(data)
        return cls.model_validate(data)

    # --- categorised views (Letta's model_post_init buckets, each in rule order) ---------
    def _remembered(self, what: Any, derive: Callable[[tuple[Any, ...]], Any]) -> Any:
        """``derive(rules)``, remembered per rule-object sequence and ``what``.

        Views and prompts are asked for several times per agent and phase, and thousands of
        agents share the very same (interned, frozen) rule objects, on which these values
        alone depend. The cached entry holds the rules, so their ids stay unique.
        """
        key = (tuple(map(id, self.tool_rules)), what)
        cached = _DERIVED.get(key)
        if cached is None:
            if len(_DERIVED) >= _DERIVED_MAX:
                _DERIVED.clear()
            rules = tuple(self.tool_rules)
            cached = _DERIVED[key] = (rules, derive(rules))
        return cached[1]

    def _of(self, *kinds: type[_R]) -> list[_R]:
        return list(
            self._remembered(kinds, lambda rules: tuple(r for r in rules if isinstance(r, kinds)))
        )

    @property
    def init_tool_rules(self) -> list[InitToolRule]:
        """``run_first`` rules."""
        return self._of(InitToolRule)

    @property
    def continue_tool_rules(self) -> list[ContinueToolRule]:
        """``continue_loop`` rules."""
        return self._of(ContinueToolRule)

    @property
    def child_based_tool_rules(self) -> list[ChildBasedRule]:
        """Child, conditional and max-count rules (Letta lumps them together)."""
        return self._of(ChildToolRule, ConditionalToolRule, MaxCountPerStepToolRule)

    @property
    def parent_tool_rules(self) -> list[ParentToolRule]:
        """``parent_last_tool`` rules."""
        return self._of(ParentToolRule)

    @property
    def terminal_tool_rules(self) -> list[TerminalToolRule]:
        """``exit_loop`` rules."""
        return self._of(TerminalToolRule)

    @property
    def required_before_exit_tool_rules(self) -> list[RequiredBeforeExitToolRule]:
        """``required_before_exit`` rules."""
        return self._of(RequiredBeforeExitToolRule)

    @property
    def requires_approval_tool_rules(self) -> list[RequiresApprovalToolRule]:
        """``requires_approval`` rules."""
        return self._of(RequiresApprovalToolRule)

    # --- history ------------------------------------------------------------------------
    def register_tool_call(self, tool_name: str) -> None:
        """Append a called tool to the history."""
        self.tool_call_history.append(tool_name)

    def clear_tool_history(self) -> None:
        """Forget every recorded tool call."""
        self.tool_call_history.clear()

    # --- allowed tools ----------------------------------------------------------------------
    def get_allowed_tool_names(
        self,
        available_tools: Iterable[str],
        error_on_empty: bool = True,
        last_function_response: str | None = None,
    ) -> list[str]:
        """Sorted names of the tools allowed next; rebuilds the prefilled-args cache.

        Empty history with init rules: the init tools (not ∩ available, never raising).
        Otherwise child-based and parent rules' ``get_valid_tools`` ∩ ``available_tools``;
        empty raises ``ValueError`` if ``error_on_empty``. A conditional rule whose tool was
        last called raises ``ValueError`` when ``last_function_response`` is missing.
        """
        available = set(available_tools)
        self._prefilled_args, self._prefilled_provenance = {}, {}
        if not self.tool_call_history and self.init_tool_rules:
            allowed = {rule.tool_name for rule in self.init_tool_rules}
        else:
            history = self.tool_call_history
            valid_sets = [
                rule.get_valid_tools(history, available, last_function_response)
                for rule in [*self.child_based_tool_rules, *self.parent_tool_rules]
            ]
            allowed = functools.reduce(operator.and_, valid_sets, available)
            if error_on_empty and not allowed:
                raise ValueError(NO_VALID_TOOLS_ERROR)
        self._build_prefill_cache(allowed & available)
        return sorted(allowed)

    def _build_prefill_cache(self, allowed: set[str]) -> None:
        args: PrefilledArgs = {}
        provenance: dict[str, str] = {}

        def store(tool: str, values: Mapping[str, JsonValue] | None, source: str) -> None:
            if not values:
                return
            args.setdefault(tool, {}).update(copy.deepcopy(dict(values)))  # last write wins
            provenance[tool] = source

        if not self.tool_call_history:
            for init in self.init_tool_rules:
                if init.tool_name in allowed:
                    store(init.tool_name, init.args, f"InitToolRule({init.tool_name})")
        last = last_tool(self.tool_call_history)
        for rule in self.child_based_tool_rules:
            if isinstance(rule, ChildToolRule) and rule.tool_name == last:
                for child, child_args in rule.get_child_args_map().items():
                    if child in allowed:
                        store(child, child_args, f"ChildToolRule({rule.tool_name}->{child})")
        # Letta also applies ``args`` of other rule types; only init rules carry ``args`` here.
        self._prefilled_args, self._prefilled_provenance = args, provenance

    def get_prefilled_args(self) -> PrefilledArgs:
        """Tool → args to prefill, from the last ``get_allowed_tool_names`` call: init ``args``
        while the history is empty, ``child_arg_nodes`` args when the parent was the last tool;
        allowed and available tools only; rule order, later rules overwrite earlier keys."""
        return copy.deepcopy(self._prefilled_args)

    def get_prefilled_args_provenance(self) -> dict[str, str]:
        """Tool → which rule supplied its prefilled args, e.g. ``ChildToolRule(a->b)``."""
        return dict(self._prefilled_provenance)

    # --- loop decisions ---------------------------------------------------------------------
    def is_terminal_tool(self, tool_name: str) -> bool:
        """Whether an ``exit_loop`` rule names the tool (required-before-exit is not checked)."""
        return any(rule.tool_name == tool_name for rule in self.terminal_tool_rules)

    def has_children_tools(self, tool_name: str) -> bool:
        """Whether a child, conditional or max-count rule names the tool (as Letta)."""
        return any(rule.tool_name == tool_name for rule in self.child_based_tool_rules)

    def is_continue_tool(self, tool_name: str) -> bool:
        """Whether a ``continue_loop`` rule names the tool."""
        return any(rule.tool_name == tool_name for rule in self.continue_tool_rules)

    def is_requires_approval_tool(self, tool_name: str) -> bool:
        """Whether a ``requires_approval`` rule names the tool."""
        return any(rule.tool_name == tool_name for rule in self.requires_approval_tool_rules)

    def get_uncalled_required_tools(self, available_tools: Iterable[str]) -> list[str]:
        """Sorted ``(required_before_exit ∩ available) − history``."""
        required = {rule.tool_name for rule in self.required_before_exit_tool_rules}
        return sorted((required & set(available_tools)) - set(self.tool_call_history))

    def has_required_tools_been_called(self, available_tools: Iterable[str]) -> bool:
        """Whether no available required-before-exit tool is still uncalled."""
        return not self.get_uncalled_required_tools(available_tools)

    def should_force_tool_call(self) -> bool:
        """True with an empty history and init rules, or when the last tool is named by a
        child, conditional or parent rule (max-count rules do not force)."""
        if not self.tool_call_history:
            return bool(self.init_tool_rules)
        last = self.tool_call_history[-1]
        return any(
            rule.requires_force_tool_call and rule.tool_name == last
            for rule in [*self.child_based_tool_rules, *self.parent_tool_rules]
        )

    # --- prompts ------------------------------------------------------------------------------
    def _prompt_rules(self) -> list[BaseToolRule]:
        return [
            *self.init_tool_rules,
            *self.continue_tool_rules,
            *self.child_based_tool_rules,
            *self.parent_tool_rules,
            *self.terminal_tool_rules,
        ]

    def compile_tool_rule_prompts(self) -> str | None:
        """``\\n``-joined prompts of init+continue+child-based+parent+terminal rules, or None:
        the value of Letta's ``tool_usage_rules`` block (``COMPILED_PROMPT_DESCRIPTION``)."""
        # A rule's prompt depends on the (frozen) rule alone: rendered once per rule sequence.
        return cast(str | None, self._remembered(_PROMPTS, lambda _rules: self._render_prompts()))

    def _render_prompts(self) -> str | None:
        rendered = [text for rule in self._prompt_rules() if (text := rule.render_prompt())]
        return "\n".join(rendered) if rendered else None

    def guess_rule_violation(self, tool_name: str) -> list[str]:
        """Prompts of rules naming ``tool_name`` or the last tool (hints for a rejected call)."""
        previous = last_tool(self.tool_call_history)
        return [
            text
            for rule in self._prompt_rules()
            if rule.tool_name in (tool_name, previous) and (text := rule.render_prompt())
        ]
