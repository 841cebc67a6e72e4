"""Validation of a parsed definitions file into write-ready specs, collecting ALL problems.

Pure (no I/O): the loader passes the names of tools that already exist in the database.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from letta_batch.definitions import base_tools
from letta_batch.definitions.agent_checks import agent_spec
from letta_batch.definitions.errors import Problem, problems_from_validation, show
from letta_batch.definitions.models import AgentDefinition, ToolDefinition
from letta_batch.definitions.specs import (
    AgentSpec,
    ToolSpec,
    ValidatedDefinitions,
    base_tool_specs,
)
from letta_batch.definitions.tool_checks import resolve_tool_name, tool_spec_problems

_TOP_LEVEL = {"tools", "agents"}


def _entries(raw: Mapping[str, Any], key: str, problems: list[Problem]) -> list[Any]:
    value = raw.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(Problem(key, f"must be a list, got {type(value).__name__} {show(value)}"))
        return []
    return value


def declared_tool_names(raw: Any) -> set[str]:
    """Names the file's tool entries declare, valid or not (so an agent using an invalid tool
    is not also reported for an unknown one)."""
    tools = raw.get("tools") if isinstance(raw, Mapping) else None
    names = set()
    for entry in tools if isinstance(tools, list) else []:
        if isinstance(entry, Mapping) and isinstance(name := resolve_tool_name(entry), str):
            names.add(name)
    return names


def referenced_tool_names(raw: Any) -> set[str]:
    """Every tool name the file's agents list (best effort, before validation)."""
    agents = raw.get("agents") if isinstance(raw, Mapping) else None
    names: set[str] = set()
    for entry in agents if isinstance(agents, list) else []:
        if isinstance(entry, Mapping) and isinstance(entry.get("tools"), list):
            names.update(t for t in entry["tools"] if isinstance(t, str))
    return names


def _tools(raw_tools: list[Any], problems: list[Problem]) -> list[ToolSpec]:
    specs: list[ToolSpec] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(raw_tools):
        base = f"tools[{i}]"
        if not isinstance(entry, Mapping):
            problems.append(Problem(base, f"must be an object, got {show(entry)}"))
            continue
        label = f"tool {entry['name']!r}" if isinstance(entry.get("name"), str) else None
        try:
            definition = ToolDefinition.model_validate(entry)
        except ValidationError as exc:
            problems.extend(problems_from_validation(exc, base, label))
            continue
        spec, found = tool_spec_problems(definition, base)
        problems.extend(found)
        if spec is None:
            continue
        if spec.name in base_tools.BASE_TOOL_SCHEMAS:
            problems.append(
                Problem(f"{base}.name", f"{spec.name!r} is a built-in tool and cannot be redefined")
            )
        elif spec.name in seen:
            problems.append(
                Problem(
                    f"{base}.name",
                    f"duplicate tool name {spec.name!r} (also tools[{seen[spec.name]}])",
                )
            )
        else:
            seen[spec.name] = i
            specs.append(spec)
    return specs


def _agents(
    raw_agents: list[Any], known_tools: Collection[str], problems: list[Problem]
) -> list[AgentSpec]:
    specs: list[AgentSpec] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(raw_agents):
        base = f"agents[{i}]"
        if not isinstance(entry, Mapping):
            problems.append(Problem(base, f"must be an object, got {show(entry)}"))
            continue
        label = f"agent {entry['name']!r}" if isinstance(entry.get("name"), str) else None
        try:
            definition = AgentDefinition.model_validate(entry)
        except ValidationError as exc:
            problems.extend(problems_from_validation(exc, base, label))
            continue
        if definition.name in seen:
            problems.append(
                Problem(
                    f"{base}.name",
                    f"duplicate agent name {definition.name!r} (also agents[{seen[definition.name]}])",
                )
            )
            continue
        seen[definition.name] = i
        spec = agent_spec(definition, base, known_tools, problems)
        if spec is not None:
            specs.append(spec)
    return specs


def validate_definitions(raw: Any, existing_tool_names: Iterable[str] = ()) -> ValidatedDefinitions:
    """Validate a parsed file (``{"tools": [...], "agents": [...]}``).

    ``existing_tool_names`` are tools already in the database that agents may reference.
    Every problem is collected; write nothing unless ``problems`` is empty.
    """
    problems: list[Problem] = []
    if not isinstance(raw, Mapping):
        problems.append(
            Problem("", f"the file must hold an object {{tools, agents}}, got {show(raw)}")
        )
        return ValidatedDefinitions([], [], problems)
    for key in sorted(set(raw) - _TOP_LEVEL, key=str):
        problems.append(Problem(str(key), "unknown top-level key (expected 'tools' and 'agents')"))
    tools = _tools(_entries(raw, "tools", problems), problems)
    known = set(base_tools.BASE_TOOL_SCHEMAS) | declared_tool_names(raw) | set(existing_tool_names)
    agents = _agents(_entries(raw, "agents", problems), known, problems)
    return ValidatedDefinitions(tools + base_tool_specs(), agents, problems)
