"""Tools: Letta's ``Tool`` plus the execution policy custom tools run under."""

from __future__ import annotations

from pydantic import BaseModel, Field

from letta_batch.schemas.enums import ToolType

#: Letta's FUNCTION_RETURN_CHAR_LIMIT.
FUNCTION_RETURN_CHAR_LIMIT = 50_000


class ToolExecutionPolicy(BaseModel):
    """How a custom tool runs in the sandbox and how Temporal retries it."""

    timeout_seconds: float = 30.0
    """Wall-clock limit of one attempt; the sandbox process is killed past it (retryable)."""
    max_attempts: int = 3
    """Attempts for retryable failures (crash, timeout, lost worker). Tool exceptions never retry."""
    initial_interval_seconds: float = 1.0
    """First retry delay."""
    backoff_coefficient: float = 2.0
    maximum_interval_seconds: float = 60.0
    cpu_seconds: int = 30
    """RLIMIT_CPU of the sandbox process."""
    memory_mb: int = 512
    """RLIMIT_AS of the sandbox process."""
    env: dict[str, str] = Field(default_factory=dict)
    """The only environment variables the tool sees (never the worker's secrets)."""


class Tool(BaseModel):
    """A tool an agent can call; ``json_schema`` is ``{name, description, parameters}``."""

    id: str
    name: str
    tool_type: ToolType = ToolType.custom
    description: str | None = None
    source_code: str | None = None
    json_schema: dict = Field(default_factory=dict)
    return_char_limit: int = FUNCTION_RETURN_CHAR_LIMIT
    """Longer results are truncated with Letta's note."""
    tags: list[str] = Field(default_factory=list)
    default_requires_approval: bool = False
    execution: ToolExecutionPolicy = Field(default_factory=ToolExecutionPolicy)
    organization_id: str | None = None

    @property
    def parameters(self) -> dict:
        """The JSON schema of the arguments (``json_schema.parameters``)."""
        params = self.json_schema.get("parameters") or {}
        return params if isinstance(params, dict) else {}
