"""Checks of one agent definition: model, timezone, blocks, tools and tool rules."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import TypeAdapter, ValidationError

from letta_batch.definitions import base_tools
from letta_batch.definitions.errors import Problem, problems_from_validation, show
from letta_batch.definitions.models import AgentDefinition
from letta_batch.definitions.specs import AgentSpec
from letta_batch.schemas import LLMConfig
from letta_batch.tool_rules import (
    ConditionalToolRule,
    ToolRule,
    ToolRuleType,
)

DEFAULT_SYSTEM_PROMPT = (
    "You are a helpful assistant with persistent memory. Your core memory blocks are shown "
    "below and stay in your context; keep them up to date with your memory tools. Reply to "
    "the user with send_message.\n\n{CORE_MEMORY}"
)
"""System prompt of agents that give none (``{CORE_MEMORY}`` marks where memory goes)."""

ANTHROPIC_PREFIX = "anthropic/"
_RULE_ADAPTER: TypeAdapter[ToolRule] = TypeAdapter(ToolRule)
_RULE_TAGS = tuple(str(t) for t in ToolRuleType)
_WITH_CHILDREN = frozenset({ToolRuleType.constrain_child_tools, ToolRuleType.parent_last_tool})


def _llm_config(
    agent: AgentDefinition, base: str, where: str, out: list[Problem]
) -> LLMConfig | None:
    if agent.llm_config is not None and agent.model is not None:
        out.append(Problem(f"{base}.model", f"give either llm_config or model, not both [{where}]"))
        return None
    if agent.model is not None:
        model = agent.model.strip()
        if model.startswith(ANTHROPIC_PREFIX) and len(model) > len(ANTHROPIC_PREFIX):
            model = model[len(ANTHROPIC_PREFIX) :]
        elif not model.startswith("claude-"):
            out.append(
                Problem(
                    f"{base}.model",
                    f"{show(agent.model)} is not served by the anthropic provider; batch stepping "
                    f"supports Anthropic models only ('anthropic/<model>' or 'claude-*') [{where}]",
                )
            )
            return None
        data: dict[str, Any] = {"model": model, "model_endpoint_type": "anthropic"}
    elif agent.llm_config is not None:
        data = dict(agent.llm_config)
    else:
        out.append(Problem(f"{base}.llm_config", f"missing: give llm_config or model [{where}]"))
        return None
    overrides = {
        "max_tokens": agent.max_tokens,
        "temperature": agent.temperature,
        "enable_reasoner": agent.enable_reasoner,
        "max_reasoning_tokens": agent.max_reasoning_tokens,
    }
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        config = LLMConfig.model_validate(data)
    except ValidationError as exc:
        out.extend(problems_from_validation(exc, f"{base}.llm_config", where))
        return None
    if config.model_endpoint_type != "anthropic":
        out.append(
            Problem(
                f"{base}.llm_config.model_endpoint_type",
                f"{config.model_endpoint_type!r} is not supported; batch stepping supports only "
                f"'anthropic' [{where}]",
            )
        )
        return None
    return config


def _rule_names(rule: ToolRule) -> list[tuple[str, str]]:
    """(field path, tool name) pairs a rule refers to."""
    # Dispatch on ``type``: isinstance on pydantic models is slow (metaclass hook), and this
    # runs for every rule of every agent.
    names = [("tool_name", rule.tool_name)]
    if rule.type in _WITH_CHILDREN:
        children = rule.children  # type: ignore[union-attr]
        names += [(f"children[{k}]", child) for k, child in enumerate(children)]
    elif rule.type == ToolRuleType.conditional:
        conditional = cast(ConditionalToolRule, rule)
        if conditional.default_child is not None:
            names.append(("default_child", conditional.default_child))
        names += [
            (f"child_output_mapping[{k}].tool", tool)
            for k, tool in enumerate(conditional.child_output_mapping.values())
        ]
    return names


def _rules(
    agent: AgentDefinition, tools: list[str], base: str, where: str, out: list[Problem]
) -> list[ToolRule]:
    rules: list[ToolRule] = []
    have = set(tools)
    for j, raw in enumerate(agent.tool_rules):
        path = f"{base}.tool_rules[{j}]"
        try:
            rule = _RULE_ADAPTER.validate_python(raw)
        except ValidationError as exc:
            out.extend(problems_from_validation(exc, path, where, drop=_RULE_TAGS))
            continue
        for sub, name in _rule_names(rule):
            if name not in have:
                out.append(Problem(f"{path}.{sub}", f"{name!r} is not a tool of {where}"))
        rules.append(rule)
    return rules


def agent_spec(
    agent: AgentDefinition, base: str, known_tools: Collection[str], out: list[Problem]
) -> AgentSpec | None:
    """The spec of a schema-valid agent definition; problems are appended to ``out``."""
    where = f"agent {agent.name!r}"
    start = len(out)
    config = _llm_config(agent, base, where, out)
    if agent.timezone is not None:
        try:
            ZoneInfo(agent.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            out.append(
                Problem(
                    f"{base}.timezone", f"{show(agent.timezone)} is not an IANA timezone [{where}]"
                )
            )
    labels: dict[str, int] = {}
    for j, block in enumerate(agent.memory_blocks):
        path = f"{base}.memory_blocks[{j}]"
        if block.label in labels:
            out.append(
                Problem(
                    f"{path}.label",
                    f"duplicate label {block.label!r} (also memory_blocks[{labels[block.label]}]) [{where}]",
                )
            )
        labels.setdefault(block.label, j)
        if len(block.value) > block.limit:
            out.append(
                Problem(
                    f"{path}.value",
                    f"{len(block.value)} characters exceed the block limit {block.limit} [{where}]",
                )
            )
    for j, name in enumerate(agent.tools):
        if name not in known_tools:
            out.append(
                Problem(
                    f"{base}.tools[{j}]",
                    f"{name!r} is not a defined, built-in or existing tool [{where}]",
                )
            )
    names = list(agent.tools)
    defaults: list[str] = []
    if agent.include_base_tools:
        defaults = base_tools.base_tools_for(agent.agent_type)
        names += defaults
    names = list(dict.fromkeys(names))
    rules = _rules(agent, names, base, where, out)
    if len(out) > start or config is None:
        return None
    return AgentSpec(
        name=agent.name,
        agent_type=agent.agent_type,
        system=agent.system if agent.system is not None else DEFAULT_SYSTEM_PROMPT,
        llm_config=config,
        tool_names=names,
        tool_rules=rules + base_tools.default_rules(defaults, rules),
        blocks=list(agent.memory_blocks),
        timezone=agent.timezone,
        message_buffer_autoclear=agent.message_buffer_autoclear,
    )
