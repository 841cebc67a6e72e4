"""Find an agent's latest kept turns: a partial index on ``llm_batch_items``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25

A job's first step has no previous item in the job; its build reads each agent's latest
item that kept turns (any earlier job), so that it too converts only the messages added
since. Only items with turns are indexed (short histories keep none), and no phase updates
``agent_id``, ``created_at`` or ``context_turns``, so the items' updates stay HOT.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHERE = sa.text("context_turns IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_llm_batch_items_agent_id_kept_turns",
        "llm_batch_items",
        ["agent_id", "created_at"],
        postgresql_where=_WHERE,
        sqlite_where=_WHERE,
    )


def downgrade() -> None:
    op.drop_index("ix_llm_batch_items_agent_id_kept_turns", table_name="llm_batch_items")
