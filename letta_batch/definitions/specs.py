"""Validated, write-ready forms of the file's tools and agents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from letta_batch.definitions import base_tools
from letta_batch.definitions.errors import Problem
from letta_batch.definitions.models import BlockDefinition
from letta_batch.schemas import (
    FUNCTION_RETURN_CHAR_LIMIT,
    AgentType,
    LLMConfig,
    ToolExecutionPolicy,
    ToolType,
)
from letta_batch.tool_rules import ToolRule


@dataclass
class ToolSpec:
    """A validated tool (no id yet)."""

    name: str
    json_schema: dict[str, Any]
    tool_type: ToolType = ToolType.custom
    description: str | None = None
    source_code: str | None = None
    return_char_limit: int = FUNCTION_RETURN_CHAR_LIMIT
    tags: list[str] = field(default_factory=list)
    default_requires_approval: bool = False
    execution: ToolExecutionPolicy = field(default_factory=ToolExecutionPolicy)
    builtin: bool = False


@dataclass
class AgentSpec:
    """A validated agent: row fields, its final tool set, rules (defaults included), blocks."""

    name: str
    agent_type: AgentType
    system: str
    llm_config: LLMConfig
    tool_names: list[str]
    tool_rules: list[ToolRule]
    blocks: list[BlockDefinition]
    timezone: str | None
    message_buffer_autoclear: bool


@dataclass
class ValidatedDefinitions:
    """The outcome of validation; write only when ``problems`` is empty."""

    tools: list[ToolSpec]
    """The file's tools followed by every base tool."""
    agents: list[AgentSpec]
    problems: list[Problem]


def base_tool_specs() -> list[ToolSpec]:
    """Specs of every built-in tool."""
    return [
        ToolSpec(
            name=name,
            json_schema=schema,
            tool_type=base_tools.BASE_TOOL_TYPES[name],
            description=schema.get("description"),
            tags=[str(base_tools.BASE_TOOL_TYPES[name])],
            builtin=True,
        )
        for name, schema in base_tools.BASE_TOOL_SCHEMAS.items()
    ]
