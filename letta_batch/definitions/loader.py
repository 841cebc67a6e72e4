"""``load_definitions``: validate a whole definitions file, then write it in bulk.

All-or-nothing: everything is validated before the first write, and every write goes through
the caller's transaction with a constant number of statements (one statement per kind
of row), whatever the number of agents. Tools and agents are upserted by name, so loading
the same file twice changes nothing and returns the same ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch.db import models as m
from letta_batch.db.types import utcnow
from letta_batch.definitions.base_tools import BASE_TOOL_SCHEMAS
from letta_batch.definitions.errors import DefinitionError
from letta_batch.definitions.models import DefinitionsFile
from letta_batch.definitions.plan import (
    AGENT_FIELDS,
    BLOCK_FIELDS,
    TOOL_FIELDS,
    ExistingAgent,
    LoadedEntry,
    WritePlan,
    plan_agents,
    plan_tools,
)
from letta_batch.definitions.validate import (
    declared_tool_names,
    referenced_tool_names,
    validate_definitions,
)
from letta_batch.repositories import (
    delete_rows,
    dialect_name,
    ensure_organization,
    in_values,
    insert_ignore,
    insert_messages,
    load_tools_by_name,
    upsert,
)


@dataclass
class LoadResult:
    """What a load did, per tool (base tools included) and per agent, in file order."""

    tools: list[LoadedEntry]
    agents: list[LoadedEntry]

    @property
    def agent_ids(self) -> dict[str, str]:
        """Agent name → id."""
        return {e.name: e.id for e in self.agents}

    @property
    def tool_ids(self) -> dict[str, str]:
        """Tool name → id."""
        return {e.name: e.id for e in self.tools}

    def count(self, status: str, kind: str = "agents") -> int:
        return sum(1 for e in getattr(self, kind) if e.status == status)


async def _existing_agents(
    session: AsyncSession, org_id: str, names: list[str]
) -> dict[str, ExistingAgent]:
    if not names:
        return {}
    dialect = dialect_name(session)
    a, ab, b, at = m.agents, m.agents_blocks, m.blocks, m.agents_tools
    rows = await session.execute(
        select(a).where(a.c.organization_id == org_id, in_values(a.c.name, names, dialect))
    )
    found = {r["name"]: ExistingAgent(row=r) for r in rows.mappings()}
    if not found:
        return found
    by_id = {e.row["id"]: e for e in found.values()}
    block_rows = await session.execute(
        select(ab.c.agent_id, ab.c.position, b)
        .join(b, b.c.id == ab.c.block_id)
        .where(in_values(ab.c.agent_id, list(by_id), dialect))
    )
    for r in block_rows.mappings():
        by_id[r["agent_id"]].blocks[r["label"]] = r
    links = await session.execute(
        select(at.c.agent_id, at.c.tool_id).where(in_values(at.c.agent_id, list(by_id), dialect))
    )
    for agent_id, tool_id in links.all():
        by_id[agent_id].tool_ids.add(tool_id)
    return found


async def _write(session: AsyncSession, org_id: str, plan: WritePlan) -> None:
    dialect = dialect_name(session)
    await upsert(
        session,
        m.tools,
        plan.tool_rows,
        conflict_columns=["organization_id", "name"],
        update_columns=[*TOOL_FIELDS, "updated_at"],
    )
    await upsert(
        session,
        m.agents,
        plan.agent_rows,
        conflict_columns=["organization_id", "name"],
        update_columns=[*AGENT_FIELDS, "updated_at"],
    )
    await insert_messages(session, org_id, plan.system_messages)
    ab, b, at = m.agents_blocks, m.blocks, m.agents_tools
    if plan.removed_block_links:
        await delete_rows(
            session, ab, plan.removed_block_links, key_columns=["agent_id", "block_id"]
        )
        # Delete the detached blocks unless something else still uses them.
        await session.execute(
            delete(b).where(
                b.c.organization_id == org_id,
                in_values(b.c.id, plan.removed_block_ids, dialect),
                ~exists(select(ab.c.block_id).where(ab.c.block_id == b.c.id)),
            )
        )
    await upsert(
        session,
        b,
        plan.block_rows,
        conflict_columns=["id"],
        update_columns=[*BLOCK_FIELDS, "version", "loaded_value_hash", "updated_at"],
    )
    await upsert(
        session,
        ab,
        plan.block_links,
        conflict_columns=["agent_id", "block_id"],
        update_columns=["position"],
    )
    await delete_rows(session, at, plan.removed_tool_links, key_columns=["agent_id", "tool_id"])
    await insert_ignore(session, at, plan.tool_links, conflict_columns=["agent_id", "tool_id"])


async def load_definitions(
    session: AsyncSession,
    org_id: str,
    parsed_file: Mapping[str, Any] | DefinitionsFile,
    *,
    reset_memory: bool = False,
) -> LoadResult:
    """Validate ``parsed_file`` and create/update its tools and agents for ``org_id``.

    Raises ``DefinitionError`` listing every problem before writing anything. On success the
    organization exists, every base tool exists, file tools are upserted by name, agents are
    upserted by name (new ones get a system message as ``message_ids[0]``), blocks and tool
    attachments follow the file. An existing block's ``value`` is rewritten only when the
    file's value changed since the last load, or always with ``reset_memory``. Does not
    commit: run it inside the caller's transaction.
    """
    raw: Any = parsed_file.model_dump() if isinstance(parsed_file, DefinitionsFile) else parsed_file
    names = set(BASE_TOOL_SCHEMAS) | declared_tool_names(raw) | referenced_tool_names(raw)
    existing_tools = await load_tools_by_name(session, org_id, sorted(names))
    validated = validate_definitions(raw, existing_tools)
    if validated.problems:
        raise DefinitionError(validated.problems)

    now = utcnow()
    plan = WritePlan()
    tool_ids = plan_tools(plan, validated.tools, existing_tools, org_id, now)
    existing_agents = await _existing_agents(session, org_id, [a.name for a in validated.agents])
    plan_agents(plan, validated.agents, existing_agents, tool_ids, org_id, now, reset_memory)

    await ensure_organization(session, org_id)
    await _write(session, org_id, plan)
    file_tools = [e for e in plan.tools if not e.builtin]
    base = [e for e in plan.tools if e.builtin]
    return LoadResult(tools=file_tools + base, agents=plan.agents)
