"""Agents, their LLM configuration and memory blocks (Letta's ``AgentState`` subset batch uses)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from letta_batch.schemas.enums import AgentType
from letta_batch.schemas.tool import Tool
from letta_batch.tool_rules import ToolRule

#: Letta's default character limit of a memory block.
DEFAULT_BLOCK_LIMIT = 100_000
DEFAULT_TIMEZONE = "UTC"


class LLMConfig(BaseModel):
    """Per-agent model settings; every agent's request is built from its own config (§8.2)."""

    model_config = ConfigDict(extra="ignore")

    model: str
    """Provider model name, e.g. ``claude-sonnet-4-5`` (a ``provider/`` prefix is stripped)."""
    model_endpoint_type: str = "anthropic"
    """Which provider serves the model; only ``anthropic`` has a batch adapter."""
    max_tokens: int | None = 4096
    """Output token cap; Letta falls back to 4096 when unset."""
    temperature: float = 1.0
    """Sampling temperature (forced to 1.0 when extended thinking is on)."""
    enable_reasoner: bool = True
    """Turn on extended thinking for models that support it."""
    max_reasoning_tokens: int = 0
    """Thinking budget; Anthropic's minimum of 1024 applies."""
    strict: bool = False
    """Strict tool schemas (``additionalProperties: false``) for models that support them."""
    put_inner_thoughts_in_kwargs: bool = False
    """Ask for inner thoughts as a ``thinking`` tool argument instead of thinking blocks."""
    effort: str | None = None
    """``output_config.effort`` for models that take it."""
    context_window: int | None = None
    """Informational; summarisation is out of scope for batch stepping."""

    @property
    def provider_model(self) -> str:
        """The model name as the provider expects it (``anthropic/x`` -> ``x``)."""
        return self.model.split("/", 1)[1] if "/" in self.model else self.model


class Block(BaseModel):
    """A core-memory block."""

    id: str
    label: str
    value: str = ""
    limit: int = DEFAULT_BLOCK_LIMIT
    """Maximum characters of ``value``; edits past it are refused with Letta's error text."""
    description: str | None = None
    read_only: bool = False
    """Read-only blocks refuse every memory edit."""
    metadata: dict = Field(default_factory=dict)
    organization_id: str | None = None
    version: int = 1
    """Row version, incremented by every value change; pass it back as the expected version
    of an optimistic update (``repositories.blocks.update_block_values``)."""


class Agent(BaseModel):
    """A stateful agent as batch stepping reads it."""

    id: str
    organization_id: str
    name: str
    agent_type: AgentType = AgentType.memgpt_v2_agent
    system: str = ""
    """The system prompt template; ``{CORE_MEMORY}`` marks where memory is compiled in."""
    llm_config: LLMConfig
    tools: list[Tool] = Field(default_factory=list)
    tool_rules: list[ToolRule] = Field(default_factory=list)
    blocks: list[Block] = Field(default_factory=list)
    """Core memory, in attachment order."""
    message_ids: list[str] = Field(default_factory=list)
    """In-context messages; ``[0]`` is the system message."""
    message_buffer_autoclear: bool = False
    """Keep only the system message in context between steps (Letta's definition)."""
    timezone: str | None = DEFAULT_TIMEZONE
    created_at: datetime | None = None

    def block(self, label: str) -> Block | None:
        return next((b for b in self.blocks if b.label == label), None)

    def tool(self, name: str) -> Tool | None:
        return next((t for t in self.tools if t.name == name), None)
