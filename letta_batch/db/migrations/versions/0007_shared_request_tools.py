"""Store each distinct ``tools`` array once instead of in every request body.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25

A typical request is 9.5 KB, 7 KB of it the ``tools`` array, and the agents of a fleet
mostly send the same array. ``build`` wrote all of it into every ``llm_batch_items`` row:
PostgreSQL compressed, TOASTed and WAL-logged ~96 MB per 10,000-agent step (the COPY took
1.1 s of its CPU) and ``send`` read it back. ``request_tool_sets`` now holds each array once
per step and shard, and an item's ``request_body`` leaves it out at the byte offset
``request_tools_at`` (``stepping/stored_request.py``). Items written before keep their
whole body and NULL in both columns, which ``send`` handles, so jobs in flight carry on.

The downgrade puts every array back into its items' bodies, so the old code can send them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "request_tool_sets",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("llm_batch_id", sa.String(), nullable=False),
        sa.Column("tools", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["llm_batch_id"],
            ["llm_batch_jobs.id"],
            name=op.f("fk_request_tool_sets_llm_batch_id_llm_batch_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_tool_sets")),
    )
    op.create_index(
        op.f("ix_request_tool_sets_llm_batch_id"), "request_tool_sets", ["llm_batch_id"]
    )
    with op.batch_alter_table("llm_batch_items") as batch:
        batch.add_column(sa.Column("request_tools_id", sa.String(), nullable=True))
        batch.add_column(sa.Column("request_tools_at", sa.Integer(), nullable=True))


def downgrade() -> None:
    joined = (
        "substr(request_body, 1, request_tools_at) || t.tools"
        " || substr(request_body, request_tools_at + 1)"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"UPDATE llm_batch_items SET request_body = {joined}"
            " FROM request_tool_sets AS t WHERE t.id = llm_batch_items.request_tools_id"
        )
    else:  # SQLite: || makes text of blobs, cast back
        op.execute(
            "UPDATE llm_batch_items SET request_body = (SELECT CAST("
            + joined.replace("request_body", "llm_batch_items.request_body").replace(
                "request_tools_at", "llm_batch_items.request_tools_at"
            )
            + " AS BLOB) FROM request_tool_sets AS t WHERE t.id = llm_batch_items.request_tools_id)"
            " WHERE request_tools_id IS NOT NULL"
        )
    with op.batch_alter_table("llm_batch_items") as batch:
        batch.drop_column("request_tools_at")
        batch.drop_column("request_tools_id")
    op.drop_table("request_tool_sets")
