"""Bulk data access. Every function takes the organization id and filters by it, and issues
a constant number of statements whatever the number of rows (spec §8.14).

Repositories never commit: the caller owns the transaction (``async with session.begin()``).
"""

from letta_batch.repositories.agents import (
    agent_ids_by_name,
    list_agents,
    load_agents,
    load_agents_by_name,
    set_message_ids,
)
from letta_batch.repositories.blocks import BlockUpdateResult, load_blocks, update_block_values
from letta_batch.repositories.bulk import (
    delete_rows,
    dialect_name,
    in_values,
    insert_ignore,
    insert_rows,
    update_rows,
    upsert,
)
from letta_batch.repositories.messages import (
    in_context_ids,
    insert_messages,
    insert_new_messages,
    list_agent_messages,
    load_in_context_messages,
    load_messages,
    update_system_messages,
)
from letta_batch.repositories.organizations import ensure_organization
from letta_batch.repositories.tools import load_tools, load_tools_by_name, upsert_tools

__all__ = [
    "BlockUpdateResult",
    "agent_ids_by_name",
    "delete_rows",
    "dialect_name",
    "ensure_organization",
    "in_context_ids",
    "in_values",
    "insert_ignore",
    "insert_messages",
    "insert_new_messages",
    "insert_rows",
    "list_agent_messages",
    "list_agents",
    "load_agents",
    "load_agents_by_name",
    "load_blocks",
    "load_in_context_messages",
    "load_messages",
    "load_tools",
    "load_tools_by_name",
    "set_message_ids",
    "update_block_values",
    "update_rows",
    "update_system_messages",
    "upsert",
    "upsert_tools",
]
