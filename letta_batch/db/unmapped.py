"""Database objects the migrations create but the models do not map (PostgreSQL only).

The full-text vectors of messages and passages are generated columns (migration 0006):
PostgreSQL computes them from the text on insert, only the search statements read them,
and SQLite, which searches with ``LIKE``, has no such columns. Mapping them would make every
``select(table)`` fetch the vectors and fail on SQLite, so they are named here instead, and
:func:`include_object` keeps schema comparison (autogenerate, the migration tests) from
reporting them as missing from the models.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, literal_column
from sqlalchemy.dialects.postgresql import TSVECTOR

#: ``messages.search_vector``: ``to_tsvector('english', coalesce(search_text, ''))``.
MESSAGE_SEARCH_VECTOR: ColumnElement[Any] = literal_column("messages.search_vector", TSVECTOR)
#: ``passages.search_vector``: ``to_tsvector('english', text)``.
PASSAGE_SEARCH_VECTOR: ColumnElement[Any] = literal_column("passages.search_vector", TSVECTOR)

#: (kind, table, name) of every unmapped object.
UNMAPPED = frozenset(
    {
        ("column", "messages", "search_vector"),
        ("column", "passages", "search_vector"),
        ("index", "messages", "ix_messages_search_vector"),
        ("index", "passages", "ix_passages_search_vector"),
    }
)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's ``include_object`` hook: leave the unmapped objects out of comparisons."""
    table = getattr(obj, "table", None)
    return (type_, getattr(table, "name", None), name) not in UNMAPPED
