"""The definitions file format: ``{"tools": [...], "agents": [...]}`` in JSON or YAML.

Field names follow Letta's ``ToolCreate`` and ``CreateAgent`` so existing definitions carry
over. Unknown fields are rejected (a typo such as ``tool`` for ``tools`` would otherwise be
silently ignored). Cross-field rules (names, schemas, tool references, rules, models,
timezones) are checked in ``letta_batch.definitions.validate``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from letta_batch.schemas import (
    DEFAULT_BLOCK_LIMIT,
    FUNCTION_RETURN_CHAR_LIMIT,
    AgentType,
    ToolExecutionPolicy,
    ToolType,
)

_STRICT = ConfigDict(extra="forbid")


class ToolDefinition(BaseModel):
    """A custom tool (Letta's ``ToolCreate`` subset)."""

    model_config = _STRICT

    name: str | None = None
    """``^[a-zA-Z0-9_-]{1,64}$``; derived from ``json_schema.name`` or the source's single
    function when omitted."""
    description: str | None = None
    """Defaults to the schema's / docstring's description."""
    source_code: str | None = None
    """Python source defining a function named like the tool (required for custom tools)."""
    source_type: str = "python"
    """Only ``python`` is supported."""
    json_schema: dict[str, Any] | None = None
    """``{name, description?, parameters: {type: object, properties, required}}``; derived
    from the function signature and docstring when omitted."""
    return_char_limit: int = Field(default=FUNCTION_RETURN_CHAR_LIMIT, ge=1)
    tags: list[str] = Field(default_factory=list)
    tool_type: ToolType = ToolType.custom
    """Only ``custom`` can be defined; the base tools are built in."""
    default_requires_approval: bool = False
    execution: ToolExecutionPolicy = Field(default_factory=ToolExecutionPolicy)
    """Sandbox limits and retry policy of the tool."""


class BlockDefinition(BaseModel):
    """A memory block of an agent (Letta's ``CreateBlock`` subset)."""

    model_config = _STRICT

    label: str = Field(min_length=1)
    value: str = ""
    limit: int = Field(default=DEFAULT_BLOCK_LIMIT, ge=1)
    description: str | None = None
    read_only: bool = False
    metadata: dict[str, Any] = Field(default_factory=dict)


class AgentDefinition(BaseModel):
    """An agent (Letta's ``CreateAgent`` subset)."""

    model_config = _STRICT

    name: str = Field(min_length=1)
    system: str | None = None
    """System prompt template; a short default is used when omitted."""
    agent_type: AgentType = AgentType.memgpt_v2_agent
    description: str | None = None
    """Accepted for compatibility; not stored."""
    memory_blocks: list[BlockDefinition] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list)
    """Tool names: defined in the file, built in, or already in the database."""
    tool_rules: list[dict[str, Any]] = Field(default_factory=list)
    """Letta tool rules (validated with ``letta_batch.tool_rules``)."""
    llm_config: dict[str, Any] | None = None
    """A full ``LLMConfig``; give this or ``model``."""
    model: str | None = None
    """Shorthand ``anthropic/<model>`` (or a bare ``claude-*`` name)."""
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=1)
    enable_reasoner: bool | None = None
    max_reasoning_tokens: int | None = Field(default=None, ge=0)
    timezone: str | None = "UTC"
    message_buffer_autoclear: bool = False
    include_base_tools: bool = True
    """Attach the base tools (and their default rules) for the agent type."""


class DefinitionsFile(BaseModel):
    """The top level of a definitions file (entries are validated one by one)."""

    model_config = _STRICT

    tools: list[Any] = Field(default_factory=list)
    agents: list[Any] = Field(default_factory=list)
