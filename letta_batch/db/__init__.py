"""Storage: SQLAlchemy 2 async engine, ORM models, Alembic migrations.

PostgreSQL (asyncpg) in production, SQLite (aiosqlite) embedded; the same migrations create
the same schema on both. Bulk data access lives in ``letta_batch.repositories``.
"""

from letta_batch.db.engine import StatementCounter, create_engine, is_sqlite, session_factory
from letta_batch.db.migrate import downgrade, downgrade_async, upgrade, upgrade_async

__all__ = [
    "StatementCounter",
    "create_engine",
    "downgrade",
    "downgrade_async",
    "is_sqlite",
    "session_factory",
    "upgrade",
    "upgrade_async",
]
