"""Messages in Letta's shape: content parts, OpenAI-style tool calls, tool returns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from letta_batch.schemas.enums import MessageRole


class TextContent(BaseModel):
    type: Literal["text"] = "text"
    text: str
    signature: str | None = None


class ReasoningContent(BaseModel):
    """A provider thinking block; its signature must be sent back on the next turn."""

    type: Literal["reasoning"] = "reasoning"
    reasoning: str
    is_native: bool = True
    signature: str | None = None


class RedactedReasoningContent(BaseModel):
    type: Literal["redacted_reasoning"] = "redacted_reasoning"
    data: str


class ImageContent(BaseModel):
    type: Literal["image"] = "image"
    media_type: str
    data: str
    """Base64 image bytes."""


MessageContent = Annotated[
    TextContent | ReasoningContent | RedactedReasoningContent | ImageContent,
    Field(discriminator="type"),
]


class ToolCallFunction(BaseModel):
    name: str
    arguments: str
    """JSON-encoded arguments, as OpenAI and Letta store them."""


class ToolCall(BaseModel):
    id: str
    """The provider's id (``toolu_…``), kept so tool_use/tool_result pair up next step (§8.7)."""
    type: Literal["function"] = "function"
    function: ToolCallFunction


class ToolReturn(BaseModel):
    tool_call_id: str
    status: Literal["success", "error"]
    stdout: list[str] | None = None
    stderr: list[str] | None = None
    func_response: str | None = None


class Message(BaseModel):
    """One message of an agent's history."""

    id: str
    agent_id: str
    organization_id: str | None = None
    role: MessageRole
    content: list[MessageContent] = Field(default_factory=list)
    name: str | None = None
    model: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    tool_returns: list[ToolReturn] | None = None
    batch_item_id: str | None = None
    step: int | None = None
    """The job step that produced the message (None outside batch jobs)."""
    otid: str | None = None
    created_at: datetime | None = None

    def text(self) -> str:
        """Concatenated text parts."""
        return "".join(p.text for p in self.content if isinstance(p, TextContent))


class MessageCreate(BaseModel):
    """An input message of a batch request (Letta's ``MessageCreate``)."""

    role: Literal["user", "system", "assistant"] = "user"
    content: str | list[TextContent | ImageContent]
    name: str | None = None
    otid: str | None = None
