"""Store the full-text vectors of messages and passages instead of computing them per search.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24

``conversation_search`` and ``archival_memory_search`` filter by agent first (its messages
or passages are few next to the table), then match and rank those rows. The GIN indexes
were on the expression ``to_tsvector('english', …)``, so matching and ``ts_rank`` computed
the vector again for every candidate row of every search: 1,000 searches over agents with
90 messages each took 1.1 s in PostgreSQL, against 0.19 s with a stored vector (measured
with ``bench/profile_phases.py --history 30`` data). Each table gets a generated
``search_vector`` column and its GIN index replaces the expression one; the vector is
computed once, on insert, as the expression index already did.

Adding a stored generated column rewrites the table under an exclusive lock (15.7 s for
970,000 messages on the 2-core benchmark machine): plan the upgrade of a large ``messages``
table for a quiet moment. SQLite searches with ``LIKE`` and has neither column. The columns
are not mapped on the models (``db.unmapped``).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: table → (text expression the vector is made of, old expression index, new index)
_VECTORS = {
    "messages": (
        "coalesce(search_text, '')",
        "ix_messages_search_text_tsv",
        "ix_messages_search_vector",
    ),
    "passages": ("text", "ix_passages_text_tsv", "ix_passages_search_vector"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, (source, old_index, new_index) in _VECTORS.items():
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN search_vector tsvector "
            f"GENERATED ALWAYS AS (to_tsvector('english', {source})) STORED"
        )
        op.execute(f"CREATE INDEX {new_index} ON {table} USING gin (search_vector)")
        op.execute(f"DROP INDEX {old_index}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, (source, old_index, _new_index) in _VECTORS.items():
        op.execute(
            f"CREATE INDEX {old_index} ON {table} USING gin (to_tsvector('english', {source}))"
        )
        op.execute(f"ALTER TABLE {table} DROP COLUMN search_vector")  # drops its index
