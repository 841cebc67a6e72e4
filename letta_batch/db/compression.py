"""Which compression PostgreSQL applies to large column values (for the migrations)."""

from __future__ import annotations

from sqlalchemy.engine import Connection


def lz4_available(bind: Connection) -> bool:
    """Whether ``bind`` is a PostgreSQL server built with lz4 (``SET COMPRESSION lz4``);
    False on SQLite, which does not compress values."""
    if bind.dialect.name != "postgresql":
        return False
    methods = bind.exec_driver_sql(
        "SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'"
    ).scalar()
    return isinstance(methods, list) and "lz4" in methods
