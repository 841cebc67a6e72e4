"""Declarative base with a constraint naming convention.

Explicit names keep Alembic migrations identical on PostgreSQL and SQLite (SQLite's batch
mode needs named constraints to alter tables).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every ORM model; ``Base.metadata`` is the schema the migrations implement."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    if TYPE_CHECKING:
        # Every model here maps a plain Table; saying so lets ``Model.__table__.insert()``
        # and ``update(Model.__table__)`` type-check (SQLAlchemy declares a FromClause).
        __table__: ClassVar[Table]
