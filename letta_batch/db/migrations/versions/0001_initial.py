"""Initial schema: organizations, agents, blocks, tools, messages, passages, batch jobs,
provider batches, batch items and tool executions.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Portable across PostgreSQL and SQLite. The differences, all confined here:

* ``messages.sequence_id`` is an identity column on PostgreSQL; SQLite cannot auto-increment
  a non-primary-key column, so there it is nullable and an AFTER INSERT trigger assigns
  ``max + 1`` (insertion order, like the identity).
* Full-text GIN indexes (``to_tsvector('english', …)``) exist on PostgreSQL only.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: JSON, stored as JSONB on PostgreSQL (letta_batch.db.types.JSONType).
JSON_T = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
#: Timezone-aware timestamp (letta_batch.db.types.UTCDateTime).
TS = sa.DateTime(timezone=True)

SQLITE_SEQUENCE_TRIGGER = """
CREATE TRIGGER messages_assign_sequence_id AFTER INSERT ON messages
FOR EACH ROW WHEN NEW.sequence_id IS NULL
BEGIN
    UPDATE messages
    SET sequence_id = (SELECT COALESCE(MAX(sequence_id), 0) + 1 FROM messages)
    WHERE rowid = NEW.rowid;
END
"""


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _sequence_id_column() -> sa.Column:
    if _is_postgres():
        return sa.Column("sequence_id", sa.BigInteger(), sa.Identity(always=False), nullable=False)
    return sa.Column("sequence_id", sa.BigInteger(), nullable=True)


def upgrade() -> None:
    op.create_table('organizations',
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('created_at', TS, server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organizations'))
    )
    op.create_table('tool_executions',
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('organization_id', sa.String(), nullable=False),
    sa.Column('batch_item_id', sa.String(), nullable=False),
    sa.Column('tool_call_id', sa.String(), nullable=False),
    sa.Column('agent_id', sa.String(), nullable=False),
    sa.Column('tool_name', sa.String(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('args', JSON_T, nullable=True),
    sa.Column('result', JSON_T, nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', TS, server_default=sa.func.now(), nullable=False),
    sa.Column('finished_at', TS, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tool_executions')),
    sa.UniqueConstraint('batch_item_id', 'tool_call_id', name=op.f('uq_tool_executions_batch_item_id_tool_call_id'))
    )
    op.create_index(op.f('ix_tool_executions_agent_id'), 'tool_executions', ['agent_id'], unique=False)
    op.create_table('agents',
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('organization_id', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('agent_type', sa.String(), nullable=False),
    sa.Column('system', sa.Text(), nullable=False),
    sa.Column('llm_config', JSON_T, nullable=False),
    sa.Column('tool_rules', JSON_T, nullable=False),
    sa.Column('message_ids', JSON_T, nullable=False),
    sa.Column('message_buffer_autoclear', sa.Boolean(), nullable=False),
    sa.Column('timezone', sa.String(), nullable=True),
    sa.Column('created_at', TS, server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', TS, server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_agents_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agents')),
    sa.UniqueConstraint('organization_id', 'name', name=op.f('uq_agents_organization_id_name'))
    )
    op.create_table('batch_jobs',
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('organization_id', sa.String(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('max_steps', sa.Integer(), nullable=False),
    sa.Column('agent_count', sa.Integer(), nullable=False),
    sa.Column('current_step', sa.Integer(), nullable=False),
    sa.Column('stop_reason', sa.String(), nullable=True),
    sa.Column('metadata', JSON_T, nullable=False),
    sa.Column('callback_url', sa.String(), nullable=True),
    sa.Column('callback_sent_at', TS, nullable=True),
    sa.Column('callback_status_code', sa.Integer(), nullable=True),
    sa.Column('callback_error', sa.Text(), nullable=True),
    sa.Column('idempotency_key', sa.String(), nullable=True),
    sa.Column('request_config', JSON_T, nullable=True),
    sa.Column('created_at', TS, server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', TS, server_default=sa.func.now(), nullable=False),
    sa.Column('completed_at', TS, nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_batch_jobs_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_jobs')),
    sa.UniqueConstraint('organization_id', 'idempotency_key', name=op.f('uq_batch_jobs_organization_id_idempotency_key'))
    )
    op.create_index(op.f('ix_batch_jobs_status'), 'batch_jobs', ['status'], unique=False)
    op.create_table('blocks',
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('organization_id', sa.String(), nullable=False),
    sa.Column('label', sa.String(), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('limit', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('read_only', sa.Boolean(), nullable=False),
    sa.Column('metadata', JSON_T, nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('loaded_value_hash', sa.String(), nullable=True),
    sa.Column('created_at', TS, server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', TS, server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_blocks_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blocks'))
    )
    op.create_index(op.f('ix_blocks_organization_id'), 'blocks', ['organization_id'], unique=False)
    op.create_table('tools',
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('organization_id', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('tool_type', sa.String(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('source_code', sa.Text(), nullable=True),
    sa.Column('json_schema', JSON_T, nullable=False),
    sa.Column('return_char_limit', sa.Integer(), nullable=False),
    sa.Column('tags', JSON_T, nullable=False),
    sa.Column('default_requires_approval', sa.Boolean(), nullable=False),
    sa.Column('execution', JSON_T, nullable=False),
    sa.Column('created_at', TS, server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', TS, server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_tools_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tools')),
    sa.UniqueConstraint('organization_id', 'name', name=op.f('uq_tools_organization_id_name'))
    )
    op.create_table('agents_blocks',
    sa.Column('agent_id', sa.String(), nullable=False),
    sa.Column('block_id', sa.String(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_agents_blocks_agent_id_agents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['block_id'], ['blocks.id'], name=op.f('fk_agents_blocks_block_id_blocks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('agent_id', 'block_id', name=op.f('pk_agents_blocks'))
    )
    op.create_index(op.f('ix_agents_blocks_block_id'), 'agents_blocks', ['block_id'], unique=False)
    op.create_table('agents_tools',
    sa.Column('agent_id', sa.String(), nullable=False),
    sa.Column('tool_id', sa.String(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_agents_tools_agent_id_agents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tool_id'], ['tools.id'], name=op.f('fk_agents_tools_tool_id_tools'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('agent_id', 'tool_id', name=op.f('pk_agents_tools'))
    )
    op.create_index(op.f('ix_agents_tools_tool_id'), 'agents_tools', ['tool_id'], unique=False)
    op.create_table('batch_job_agents',
    sa.Column('job_id', sa.String(), nullable=False),
    sa.Column('agent_id', sa.String(), nullable=False),
    sa.Column('organization_id', sa.String(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('stop_reason', sa.String(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('steps', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_batch_job_agents_agent_id_agents')),
    sa.ForeignKeyConstraint(['job_id'], ['batch_jobs.id'], name=op.f('fk_batch_job_agents_job_id_batch_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('job_id', 'agent_id', name=op.f('pk_batch_job_agents'))
    )
    op.create_index(op.f('ix_batch_job_agents_agent_id'), 'batch_job_agents', ['agent_id'], unique=False)
    op.create_index('ix_batch_job_agents_job_id_status', 'batch_job_agents', ['job_id', 'status'], unique=False)
    op.create_table('batch_job_inputs',
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('job_id', sa.String(), nullable=False),
    sa.Column('agent_id', sa.String(), nullable=False),
    sa.Column('organization_id', sa.String(), nullable=False),
    sa.Column('messages', JSON_T, nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['batch_jobs.id'], name=op.f('fk_batch_job_inputs_job_id_batch_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_job_inputs')),
    sa.UniqueConstraint('job_id', 'agent_id', name=op.f('uq_batch_job_inputs_job_id_agent_id'))
    )
    op.create_table('llm_batch_jobs',
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('organization_id', sa.String(), nullable=False),
    sa.Column('letta_batch_job_id', sa.String(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('llm_provider', sa.String(), nullable=False),
    sa.Column('provider_batch_id', sa.String(), nullable=True),
    sa.Column('request_count', sa.Integer(), nullable=False),
    sa.Column('request_counts', JSON_T, nullable=True),
    sa.Column('create_batch_response', JSON_T, nullable=True),
    sa.Column('latest_polling_response', JSON_T, nullable=True),
    sa.Column('last_polled_at', TS, nullable=True),
    sa.Column('intent_at', TS, nullable=True),
    sa.Column('sent_at', TS, nullable=True),
    sa.Column('ended_at', TS, nullable=True),
    sa.Column('created_at', TS, server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', TS, server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['letta_batch_job_id'], ['batch_jobs.id'], name=op.f('fk_llm_batch_jobs_letta_batch_job_id_batch_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_llm_batch_jobs')),
    sa.UniqueConstraint('letta_batch_job_id', 'step', name=op.f('uq_llm_batch_jobs_letta_batch_job_id_step'))
    )
    op.create_index(op.f('ix_llm_batch_jobs_provider_batch_id'), 'llm_batch_jobs', ['provider_batch_id'], unique=False)
    op.create_index(op.f('ix_llm_batch_jobs_status'), 'llm_batch_jobs', ['status'], unique=False)
    op.create_table('messages',
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('organization_id', sa.String(), nullable=False),
    sa.Column('agent_id', sa.String(), nullable=False),
    sa.Column('role', sa.String(), nullable=False),
    sa.Column('content', JSON_T, nullable=False),
    sa.Column('name', sa.String(), nullable=True),
    sa.Column('model', sa.String(), nullable=True),
    sa.Column('tool_calls', JSON_T, nullable=True),
    sa.Column('tool_call_id', sa.String(), nullable=True),
    sa.Column('tool_returns', JSON_T, nullable=True),
    sa.Column('batch_item_id', sa.String(), nullable=True),
    sa.Column('step', sa.Integer(), nullable=True),
    sa.Column('otid', sa.String(), nullable=True),
    _sequence_id_column(),
    sa.Column('search_text', sa.Text(), nullable=True),
    sa.Column('created_at', TS, server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_messages_agent_id_agents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages'))
    )
    op.create_index('ix_messages_agent_id_created_at', 'messages', ['agent_id', 'created_at'], unique=False)
    op.create_index('ix_messages_agent_id_sequence_id', 'messages', ['agent_id', 'sequence_id'], unique=False)
    op.create_index(op.f('ix_messages_batch_item_id'), 'messages', ['batch_item_id'], unique=False)
    op.create_index(op.f('ix_messages_sequence_id'), 'messages', ['sequence_id'], unique=False)
    op.create_table('passages',
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('organization_id', sa.String(), nullable=False),
    sa.Column('agent_id', sa.String(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('tags', JSON_T, nullable=False),
    sa.Column('created_at', TS, server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_passages_agent_id_agents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_passages'))
    )
    op.create_index(op.f('ix_passages_agent_id'), 'passages', ['agent_id'], unique=False)
    op.create_table('llm_batch_items',
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('organization_id', sa.String(), nullable=False),
    sa.Column('llm_batch_id', sa.String(), nullable=False),
    sa.Column('letta_batch_job_id', sa.String(), nullable=False),
    sa.Column('agent_id', sa.String(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('llm_config', JSON_T, nullable=False),
    sa.Column('request_status', sa.String(), nullable=False),
    sa.Column('step_status', sa.String(), nullable=False),
    sa.Column('step_state', JSON_T, nullable=False),
    sa.Column('request_params', JSON_T, nullable=True),
    sa.Column('batch_request_result', JSON_T, nullable=True),
    sa.Column('decision', JSON_T, nullable=True),
    sa.Column('stop_reason', sa.String(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', TS, server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', TS, server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_llm_batch_items_agent_id_agents')),
    sa.ForeignKeyConstraint(['llm_batch_id'], ['llm_batch_jobs.id'], name=op.f('fk_llm_batch_items_llm_batch_id_llm_batch_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_llm_batch_items')),
    sa.UniqueConstraint('llm_batch_id', 'agent_id', name=op.f('uq_llm_batch_items_llm_batch_id_agent_id'))
    )
    op.create_index(op.f('ix_llm_batch_items_agent_id'), 'llm_batch_items', ['agent_id'], unique=False)
    op.create_index(op.f('ix_llm_batch_items_letta_batch_job_id'), 'llm_batch_items', ['letta_batch_job_id'], unique=False)
    op.create_index('ix_llm_batch_items_llm_batch_id_request_status', 'llm_batch_items', ['llm_batch_id', 'request_status'], unique=False)
    op.create_index('ix_llm_batch_items_llm_batch_id_step_status', 'llm_batch_items', ['llm_batch_id', 'step_status'], unique=False)

    if _is_postgres():
        op.create_index(
            "ix_messages_search_text_tsv",
            "messages",
            [sa.literal_column("to_tsvector('english', coalesce(search_text, ''))")],
            postgresql_using="gin",
        )
        op.create_index(
            "ix_passages_text_tsv",
            "passages",
            [sa.literal_column("to_tsvector('english', text)")],
            postgresql_using="gin",
        )
    else:
        op.execute(SQLITE_SEQUENCE_TRIGGER)


def downgrade() -> None:
    if _is_postgres():
        op.drop_index("ix_passages_text_tsv", table_name="passages")
        op.drop_index("ix_messages_search_text_tsv", table_name="messages")
    else:
        op.execute("DROP TRIGGER IF EXISTS messages_assign_sequence_id")
    op.drop_index('ix_llm_batch_items_llm_batch_id_step_status', table_name='llm_batch_items')
    op.drop_index('ix_llm_batch_items_llm_batch_id_request_status', table_name='llm_batch_items')
    op.drop_index(op.f('ix_llm_batch_items_letta_batch_job_id'), table_name='llm_batch_items')
    op.drop_index(op.f('ix_llm_batch_items_agent_id'), table_name='llm_batch_items')
    op.drop_table('llm_batch_items')
    op.drop_index(op.f('ix_passages_agent_id'), table_name='passages')
    op.drop_table('passages')
    op.drop_index(op.f('ix_messages_sequence_id'), table_name='messages')
    op.drop_index(op.f('ix_messages_batch_item_id'), table_name='messages')
    op.drop_index('ix_messages_agent_id_sequence_id', table_name='messages')
    op.drop_index('ix_messages_agent_id_created_at', table_name='messages')
    op.drop_table('messages')
    op.drop_index(op.f('ix_llm_batch_jobs_status'), table_name='llm_batch_jobs')
    op.drop_index(op.f('ix_llm_batch_jobs_provider_batch_id'), table_name='llm_batch_jobs')
    op.drop_table('llm_batch_jobs')
    op.drop_table('batch_job_inputs')
    op.drop_index('ix_batch_job_agents_job_id_status', table_name='batch_job_agents')
    op.drop_index(op.f('ix_batch_job_agents_agent_id'), table_name='batch_job_agents')
    op.drop_table('batch_job_agents')
    op.drop_index(op.f('ix_agents_tools_tool_id'), table_name='agents_tools')
    op.drop_table('agents_tools')
    op.drop_index(op.f('ix_agents_blocks_block_id'), table_name='agents_blocks')
    op.drop_table('agents_blocks')
    op.drop_table('tools')
    op.drop_index(op.f('ix_blocks_organization_id'), table_name='blocks')
    op.drop_table('blocks')
    op.drop_index(op.f('ix_batch_jobs_status'), table_name='batch_jobs')
    op.drop_table('batch_jobs')
    op.drop_table('agents')
    op.drop_index(op.f('ix_tool_executions_agent_id'), table_name='tool_executions')
    op.drop_table('tool_executions')
    op.drop_table('organizations')
