"""The write plan of a load: which rows to create or update, computed against the current
database state (pure; ``loader`` does the I/O)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from letta_batch import ids
from letta_batch.definitions.specs import AgentSpec, ToolSpec
from letta_batch.repositories.rows import dump_tool_rules, tool_to_row
from letta_batch.schemas import Message, MessageRole, TextContent, Tool

Status = Literal["created", "updated", "unchanged"]

TOOL_FIELDS = (
    "tool_type",
    "description",
    "source_code",
    "json_schema",
    "return_char_limit",
    "tags",
    "default_requires_approval",
    "execution",
)
AGENT_FIELDS = (
    "agent_type",
    "system",
    "llm_config",
    "tool_rules",
    "message_buffer_autoclear",
    "timezone",
)
BLOCK_FIELDS = ("label", "value", "limit", "description", "read_only", "metadata")


def value_hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LoadedEntry:
    """One tool or agent of a load and what happened to it."""

    name: str
    id: str
    status: Status
    builtin: bool = False


@dataclass
class ExistingAgent:
    """An agent's current rows: the agent, its blocks by label (with ``position``), tool ids."""

    row: Mapping[Any, Any]
    blocks: dict[str, Mapping[Any, Any]] = field(default_factory=dict)
    tool_ids: set[str] = field(default_factory=set)


@dataclass
class WritePlan:
    tool_rows: list[dict[str, Any]] = field(default_factory=list)
    agent_rows: list[dict[str, Any]] = field(default_factory=list)
    system_messages: list[Message] = field(default_factory=list)
    block_rows: list[dict[str, Any]] = field(default_factory=list)
    block_links: list[dict[str, Any]] = field(default_factory=list)
    removed_block_links: list[dict[str, Any]] = field(default_factory=list)
    removed_block_ids: list[str] = field(default_factory=list)
    tool_links: list[dict[str, Any]] = field(default_factory=list)
    removed_tool_links: list[dict[str, Any]] = field(default_factory=list)
    tools: list[LoadedEntry] = field(default_factory=list)
    agents: list[LoadedEntry] = field(default_factory=list)


def plan_tools(
    plan: WritePlan, specs: list[ToolSpec], existing: Mapping[str, Tool], org_id: str, now: datetime
) -> dict[str, str]:
    """Fill the tool part of ``plan``; returns name → id for every tool of the file/base set
    plus the existing ones."""
    tool_ids = {name: tool.id for name, tool in existing.items()}
    for spec in specs:
        current = existing.get(spec.name)
        tool = Tool(
            id=current.id if current else ids.derived_id(ids.TOOL, org_id, spec.name),
            name=spec.name,
            tool_type=spec.tool_type,
            description=spec.description,
            source_code=spec.source_code,
            json_schema=spec.json_schema,
            return_char_limit=spec.return_char_limit,
            tags=spec.tags,
            default_requires_approval=spec.default_requires_approval,
            execution=spec.execution,
        )
        row = tool_to_row(tool, org_id, now)
        status: Status = "created"
        if current is not None:
            old = tool_to_row(current, org_id, now)
            status = "updated" if any(row[k] != old[k] for k in TOOL_FIELDS) else "unchanged"
        if status != "unchanged":
            plan.tool_rows.append(row)
        plan.tools.append(LoadedEntry(spec.name, tool.id, status, spec.builtin))
        tool_ids[spec.name] = tool.id
    return tool_ids


def _plan_blocks(
    plan: WritePlan,
    spec: AgentSpec,
    agent_id: str,
    current: ExistingAgent | None,
    org_id: str,
    now: datetime,
    reset_memory: bool,
) -> bool:
    changed = False
    existing = current.blocks if current else {}
    for position, block in enumerate(spec.blocks):
        digest = value_hash(block.value)
        old = existing.get(block.label)
        row: dict[str, Any] = {
            "organization_id": org_id,
            "label": block.label,
            "limit": block.limit,
            "description": block.description,
            "read_only": block.read_only,
            "metadata": block.metadata,
            "loaded_value_hash": digest,
            "updated_at": now,
        }
        if old is None:
            block_id = ids.derived_id(ids.BLOCK, agent_id, block.label)
            row.update(id=block_id, value=block.value, version=1, created_at=now)
            plan.block_rows.append(row)
            plan.block_links.append(
                {"agent_id": agent_id, "block_id": block_id, "position": position}
            )
            changed = True
            continue
        # Rewrite the value only when the file's value changed since it was last loaded (or on
        # reset), so memory the agent edited survives re-loading an unchanged file.
        overwrite = reset_memory or old["loaded_value_hash"] != digest
        value = block.value if overwrite else old["value"]
        version = old["version"] + (1 if value != old["value"] else 0)
        row.update(id=old["id"], value=value, version=version, created_at=old["created_at"])
        if digest != old["loaded_value_hash"] or any(row[k] != old[k] for k in BLOCK_FIELDS):
            plan.block_rows.append(row)
            changed = True
        if old["position"] != position:
            plan.block_links.append(
                {"agent_id": agent_id, "block_id": old["id"], "position": position}
            )
            changed = True
    wanted = {b.label for b in spec.blocks}
    for label, old in existing.items():
        if label not in wanted:
            plan.removed_block_links.append({"agent_id": agent_id, "block_id": old["id"]})
            plan.removed_block_ids.append(old["id"])
            changed = True
    return changed


def plan_agents(
    plan: WritePlan,
    specs: list[AgentSpec],
    existing: Mapping[str, ExistingAgent],
    tool_ids: Mapping[str, str],
    org_id: str,
    now: datetime,
    reset_memory: bool,
) -> None:
    """Fill the agent part of ``plan`` (rows, system messages, blocks, links)."""
    for spec in specs:
        current = existing.get(spec.name)
        fields: dict[str, Any] = {
            "agent_type": str(spec.agent_type),
            "system": spec.system,
            "llm_config": spec.llm_config.model_dump(mode="json"),
            "tool_rules": dump_tool_rules(spec.tool_rules),
            "message_buffer_autoclear": spec.message_buffer_autoclear,
            "timezone": spec.timezone,
        }
        if current is None:
            agent_id = ids.new_id(ids.AGENT)
            system_message = Message(
                id=ids.new_id(ids.MESSAGE),
                agent_id=agent_id,
                organization_id=org_id,
                role=MessageRole.system,
                content=[TextContent(text=spec.system)],
                created_at=now,
            )
            plan.system_messages.append(system_message)
            row_changed, message_ids, created_at = True, [system_message.id], now
            old_tools: set[str] = set()
        else:
            agent_id = current.row["id"]
            row_changed = any(fields[k] != current.row[k] for k in AGENT_FIELDS)
            message_ids, created_at = current.row["message_ids"], current.row["created_at"]
            old_tools = current.tool_ids
        if row_changed:
            plan.agent_rows.append(
                {
                    "id": agent_id,
                    "organization_id": org_id,
                    "name": spec.name,
                    **fields,
                    "message_ids": message_ids,
                    "created_at": created_at,
                    "updated_at": now,
                }
            )
        blocks_changed = _plan_blocks(plan, spec, agent_id, current, org_id, now, reset_memory)
        wanted_tools = {tool_ids[name] for name in spec.tool_names}
        plan.tool_links += [
            {"agent_id": agent_id, "tool_id": t} for t in sorted(wanted_tools - old_tools)
        ]
        plan.removed_tool_links += [
            {"agent_id": agent_id, "tool_id": t} for t in sorted(old_tools - wanted_tools)
        ]
        links_changed = wanted_tools != old_tools
        status: Status = "created" if current is None else "unchanged"
        if current is not None and (row_changed or blocks_changed or links_changed):
            status = "updated"
        plan.agents.append(LoadedEntry(spec.name, agent_id, status))
