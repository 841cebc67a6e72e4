"""A step's requests may span several provider batches: ``llm_batch_parts``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

Anthropic takes at most 100,000 requests or 256 MB per batch; with Letta's base tools
(~10 KB per request) a step of more than ~26,000 agents does not fit one. ``build`` now
splits a step into parts, each its own provider batch with its own send intent, polling
state and results. The per-provider-batch columns move from ``llm_batch_jobs`` to the new
table (every existing step becomes its part 0, so a job in flight during the upgrade carries
on), and each item records its ``part``.

Downgrade refuses while any step has more than one part: the old schema cannot say which
provider batch holds which request.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_T = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TS = sa.DateTime(timezone=True)

#: Columns that moved from ``llm_batch_jobs`` to ``llm_batch_parts`` (same names and types).
MOVED = (
    ("create_batch_response", JSON_T),
    ("latest_polling_response", JSON_T),
    ("last_polled_at", TS),
    ("intent_at", TS),
)


def upgrade() -> None:
    op.create_table(
        "llm_batch_parts",
        sa.Column("llm_batch_id", sa.String(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("provider_batch_id", sa.String(), nullable=True),
        sa.Column("request_count", sa.Integer(), nullable=False),
        sa.Column("request_bytes", sa.Integer(), nullable=False),
        sa.Column("request_counts", JSON_T, nullable=True),
        sa.Column("create_batch_response", JSON_T, nullable=True),
        sa.Column("latest_polling_response", JSON_T, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("last_polled_at", TS, nullable=True),
        sa.Column("intent_at", TS, nullable=True),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["llm_batch_id"],
            ["llm_batch_jobs.id"],
            name=op.f("fk_llm_batch_parts_llm_batch_id_llm_batch_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("llm_batch_id", "part", name=op.f("pk_llm_batch_parts")),
        sa.UniqueConstraint("provider_batch_id", name=op.f("uq_llm_batch_parts_provider_batch_id")),
    )
    op.execute(
        "INSERT INTO llm_batch_parts (llm_batch_id, part, organization_id, status, "
        "provider_batch_id, request_count, request_bytes, request_counts, "
        "create_batch_response, latest_polling_response, last_polled_at, intent_at, sent_at, "
        "ended_at, created_at, updated_at) "
        "SELECT id, 0, organization_id, status, provider_batch_id, request_count, 0, "
        "request_counts, create_batch_response, latest_polling_response, last_polled_at, "
        "intent_at, sent_at, ended_at, created_at, updated_at FROM llm_batch_jobs"
    )
    with op.batch_alter_table("llm_batch_items") as batch:
        batch.add_column(sa.Column("part", sa.Integer(), server_default="0", nullable=False))
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not batch mode: batch mode would
    # recreate llm_batch_jobs, and dropping the old table cascades into llm_batch_items.
    for name, _ in MOVED:
        op.drop_column("llm_batch_jobs", name)


def downgrade() -> None:
    split = op.get_bind().execute(sa.text("SELECT count(*) FROM llm_batch_parts WHERE part > 0"))
    if split.scalar():
        raise RuntimeError(
            "llm_batch_parts: some steps were sent as several provider batches; revision "
            "0003 cannot represent them (finish or delete those jobs before downgrading)"
        )
    for name, type_ in MOVED:  # plain ALTER TABLE, for the reason given in upgrade()
        op.add_column("llm_batch_jobs", sa.Column(name, type_, nullable=True))
    for name, _ in MOVED:
        op.execute(
            f"UPDATE llm_batch_jobs SET {name} = (SELECT p.{name} FROM llm_batch_parts p "
            "WHERE p.llm_batch_id = llm_batch_jobs.id AND p.part = 0)"
        )
    with op.batch_alter_table("llm_batch_items") as batch:
        batch.drop_column("part")
    op.drop_table("llm_batch_parts")
