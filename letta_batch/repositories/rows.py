"""Conversions between domain models (``letta_batch.schemas``) and table rows.

Rows are plain dicts keyed by column name, ready for the bulk helpers; JSON columns
hold ``model_dump(mode="json")`` forms so they read back losslessly.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from letta_batch.db.types import utcnow
from letta_batch.schemas import Agent, Block, LLMConfig, Message, Tool, ToolExecutionPolicy
from letta_batch.schemas.message import TextContent
from letta_batch.tool_rules import TOOL_RULE_ADAPTER, ToolRule
from letta_batch.tool_rules.rule_cache import shared_rule_list

#: A result row (``RowMapping``) or a plain dict keyed by column name.
RowLike = Mapping[Any, Any]


def dump_tool_rules(rules: list[ToolRule]) -> list[dict[str, Any]]:
    """The lossless JSON form of ``rules`` stored in ``agents.tool_rules``."""
    return TOOL_RULE_ADAPTER.dump_python(rules, mode="json")


def load_tool_rules(data: Any) -> list[ToolRule]:
    """The stored rule list, validated. Equal lists share their (frozen) rule objects through
    ``shared_rule_list``, which is what lets the solver's per-rule-sequence caches hit for a
    fleet's agents; a list the cache cannot take is validated here and fails with its error."""
    value = data or []
    shared = shared_rule_list(value)
    if shared is not value:  # validated (a new list); otherwise the value comes back as is
        return cast(list[ToolRule], shared)
    return TOOL_RULE_ADAPTER.validate_python(value)


def block_from_row(row: RowLike) -> Block:
    return Block(
        id=row["id"],
        label=row["label"],
        value=row["value"],
        limit=row["limit"],
        description=row["description"],
        read_only=row["read_only"],
        metadata=row["metadata"] or {},
        organization_id=row["organization_id"],
        version=row["version"],
    )


def block_to_row(block: Block, org_id: str, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    return {
        "id": block.id,
        "organization_id": org_id,
        "label": block.label,
        "value": block.value,
        "limit": block.limit,
        "description": block.description,
        "read_only": block.read_only,
        "metadata": block.metadata,
        "version": block.version,
        "created_at": now,
        "updated_at": now,
    }


def tool_from_row(row: RowLike) -> Tool:
    return Tool(
        id=row["id"],
        name=row["name"],
        tool_type=row["tool_type"],
        description=row["description"],
        source_code=row["source_code"],
        json_schema=row["json_schema"] or {},
        return_char_limit=row["return_char_limit"],
        tags=row["tags"] or [],
        default_requires_approval=row["default_requires_approval"],
        execution=ToolExecutionPolicy.model_validate(row["execution"] or {}),
        organization_id=row["organization_id"],
    )


def tool_to_row(tool: Tool, org_id: str, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    return {
        "id": tool.id,
        "organization_id": org_id,
        "name": tool.name,
        "tool_type": str(tool.tool_type),
        "description": tool.description,
        "source_code": tool.source_code,
        "json_schema": tool.json_schema,
        "return_char_limit": tool.return_char_limit,
        "tags": list(tool.tags),
        "default_requires_approval": tool.default_requires_approval,
        "execution": tool.execution.model_dump(mode="json"),
        "created_at": now,
        "updated_at": now,
    }


def agent_to_row(agent: Agent, org_id: str, now: datetime | None = None) -> dict[str, Any]:
    """The ``agents`` row of ``agent`` (tools and blocks live in their link tables)."""
    now = now or utcnow()
    return {
        "id": agent.id,
        "organization_id": org_id,
        "name": agent.name,
        "agent_type": str(agent.agent_type),
        "system": agent.system,
        "llm_config": agent.llm_config.model_dump(mode="json"),
        "tool_rules": dump_tool_rules(agent.tool_rules),
        "message_ids": list(agent.message_ids),
        "message_buffer_autoclear": agent.message_buffer_autoclear,
        "timezone": agent.timezone,
        "created_at": agent.created_at or now,
        "updated_at": now,
    }


def agent_from_row(row: RowLike, tools: list[Tool], blocks: list[Block]) -> Agent:
    return Agent(
        id=row["id"],
        organization_id=row["organization_id"],
        name=row["name"],
        agent_type=row["agent_type"],
        system=row["system"],
        llm_config=LLMConfig.model_validate(row["llm_config"]),
        tools=tools,
        tool_rules=load_tool_rules(row["tool_rules"]),
        blocks=blocks,
        message_ids=list(row["message_ids"] or []),
        message_buffer_autoclear=row["message_buffer_autoclear"],
        timezone=row["timezone"],
        created_at=row["created_at"],
    )


#: Roles ``conversation_search`` never returns (Letta's rule): their text is not indexed, so
#: rewriting every agent's system prompt each step does not rebuild its full-text entry.
UNSEARCHED_ROLES = frozenset({"system", "tool"})


def search_text(message: Message) -> str | None:
    """Plain text of a message for full-text search: text parts plus tool-call arguments.

    ``None`` for roles the search never returns (:data:`UNSEARCHED_ROLES`).
    """
    if str(message.role) in UNSEARCHED_ROLES:
        return None
    parts = [p.text for p in message.content if isinstance(p, TextContent)]
    for call in message.tool_calls or []:
        parts.append(call.function.arguments)
    return "\n".join(parts)


def message_to_row(message: Message, org_id: str, now: datetime | None = None) -> dict[str, Any]:
    return {
        "id": message.id,
        "organization_id": org_id,
        "agent_id": message.agent_id,
        "role": str(message.role),
        "content": [p.model_dump(mode="json") for p in message.content],
        "name": message.name,
        "model": message.model,
        "tool_calls": (
            None
            if message.tool_calls is None
            else [c.model_dump(mode="json") for c in message.tool_calls]
        ),
        "tool_call_id": message.tool_call_id,
        "tool_returns": (
            None
            if message.tool_returns is None
            else [r.model_dump(mode="json") for r in message.tool_returns]
        ),
        "batch_item_id": message.batch_item_id,
        "step": message.step,
        "otid": message.otid,
        "search_text": search_text(message),
        "created_at": message.created_at or now or utcnow(),
    }


def message_from_row(row: RowLike) -> Message:
    return Message.model_validate(
        {
            "id": row["id"],
            "agent_id": row["agent_id"],
            "organization_id": row["organization_id"],
            "role": row["role"],
            "content": row["content"] or [],
            "name": row["name"],
            "model": row["model"],
            "tool_calls": row["tool_calls"],
            "tool_call_id": row["tool_call_id"],
            "tool_returns": row["tool_returns"],
            "batch_item_id": row["batch_item_id"],
            "step": row["step"],
            "otid": row["otid"],
            "created_at": row["created_at"],
        }
    )
