"""Keep each request's history as converted turns for the next step's build.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25

Build read, validated and converted every in-context message of every agent on every step,
~25 µs per message: with 90-message contexts most of a step's cost. ``context_turns`` holds
the turns a request's history converted to (``providers/anthropic/context_turns.py``); the
next step of the job converts only the messages added since. Items written before have
NULL, and their agents' next requests are built from the whole history as before, so jobs
in flight carry on. Compressed with lz4 like the request bodies (migration 0003).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from letta_batch.db.compression import lz4_available

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("llm_batch_items") as batch:
        batch.add_column(sa.Column("context_turns", sa.LargeBinary(), nullable=True))
    if lz4_available(op.get_bind()):
        op.execute('ALTER TABLE "llm_batch_items" ALTER COLUMN "context_turns" SET COMPRESSION lz4')


def downgrade() -> None:
    with op.batch_alter_table("llm_batch_items") as batch:
        batch.drop_column("context_turns")
