"""All ORM models; ``Base.metadata`` is the schema the Alembic migrations create.

The tables are split by concern (``models_agents``, ``models_batch``); import them from here.
"""

from __future__ import annotations

from sqlalchemy import Table

from letta_batch.db.base import NAMING_CONVENTION, Base
from letta_batch.db.models_agents import (
    AgentBlockRow,
    AgentRow,
    AgentToolRow,
    BlockRow,
    MessageRow,
    OrganizationRow,
    PassageRow,
    ToolRow,
)
from letta_batch.db.models_batch import (
    BatchJobAgentRow,
    BatchJobInputRow,
    BatchJobRow,
    LLMBatchItemRow,
    LLMBatchJobRow,
    LLMBatchPartRow,
    RequestToolSetRow,
    ToolExecutionRow,
)

organizations: Table = Base.metadata.tables["organizations"]
agents: Table = Base.metadata.tables["agents"]
blocks: Table = Base.metadata.tables["blocks"]
agents_blocks: Table = Base.metadata.tables["agents_blocks"]
tools: Table = Base.metadata.tables["tools"]
agents_tools: Table = Base.metadata.tables["agents_tools"]
messages: Table = Base.metadata.tables["messages"]
passages: Table = Base.metadata.tables["passages"]
batch_jobs: Table = Base.metadata.tables["batch_jobs"]
batch_job_agents: Table = Base.metadata.tables["batch_job_agents"]
batch_job_inputs: Table = Base.metadata.tables["batch_job_inputs"]
llm_batch_jobs: Table = Base.metadata.tables["llm_batch_jobs"]
llm_batch_items: Table = Base.metadata.tables["llm_batch_items"]
tool_executions: Table = Base.metadata.tables["tool_executions"]
request_tool_sets: Table = Base.metadata.tables["request_tool_sets"]
"""Core tables, for bulk statements."""

__all__ = [
    "NAMING_CONVENTION",
    "AgentBlockRow",
    "AgentRow",
    "AgentToolRow",
    "Base",
    "BatchJobAgentRow",
    "BatchJobInputRow",
    "BatchJobRow",
    "BlockRow",
    "LLMBatchItemRow",
    "LLMBatchJobRow",
    "LLMBatchPartRow",
    "MessageRow",
    "OrganizationRow",
    "PassageRow",
    "RequestToolSetRow",
    "ToolExecutionRow",
    "ToolRow",
    "agents",
    "agents_blocks",
    "agents_tools",
    "batch_job_agents",
    "batch_job_inputs",
    "batch_jobs",
    "blocks",
    "llm_batch_items",
    "llm_batch_jobs",
    "messages",
    "organizations",
    "passages",
    "request_tool_sets",
    "tool_executions",
    "tools",
]
