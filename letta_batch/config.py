"""Settings read from the environment (one place, documented per field)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field

from letta_batch.event_loop import EventLoopKind

#: The organization used when a caller does not name one (single-tenant installs, the demo).
DEFAULT_ORGANIZATION_ID = "org-00000000-0000-4000-8000-000000000000"

#: Where the embedded default keeps its state (SQLite database, dev-server DB, logs).
DEFAULT_STATE_DIR = Path(".letta-batch")


def default_database_url(state_dir: Path = DEFAULT_STATE_DIR) -> str:
    """The embedded default: a SQLite file under the state directory."""
    return f"sqlite+aiosqlite:///{(state_dir / 'letta-batch.db').resolve()}"


class Settings(BaseModel):
    """Process configuration. Every field has an environment variable of the same name."""

    database_url: str = ""
    """``DATABASE_URL``: SQLAlchemy async URL (``postgresql+asyncpg://…`` in production,
    ``sqlite+aiosqlite:///…`` embedded). Empty means the embedded default."""
    anthropic_api_key: str | None = None
    """``ANTHROPIC_API_KEY``: set to use the real API; never logged or persisted."""
    anthropic_base_url: str | None = None
    """``ANTHROPIC_BASE_URL``: the emulator's URL when no key is set (or a proxy)."""
    temporal_address: str = "127.0.0.1:7233"
    """``TEMPORAL_ADDRESS``: host:port of the Temporal frontend."""
    temporal_namespace: str = "default"
    """``TEMPORAL_NAMESPACE``."""
    task_queue: str = "letta-batch"
    """``LETTA_BATCH_TASK_QUEUE``: the worker's task queue."""
    organization_id: str = DEFAULT_ORGANIZATION_ID
    """``LETTA_BATCH_ORGANIZATION_ID``: the tenant CLI commands act for."""
    state_dir: Path = DEFAULT_STATE_DIR
    """``LETTA_BATCH_STATE_DIR``: where the embedded default keeps its files."""
    batch_max_requests: int | None = Field(default=None, gt=0)
    """``LETTA_BATCH_MAX_REQUESTS``: at most this many requests per provider batch; a larger
    step is sent as several batches. Unset: the provider's limit (Anthropic 100,000)."""
    batch_max_bytes: int | None = Field(default=None, gt=0)
    """``LETTA_BATCH_MAX_BYTES``: at most this many bytes per provider batch's create body.
    Unset: the provider's limit (Anthropic 256 MB)."""
    phase_shards: int = Field(default=1, ge=1)
    """``LETTA_BATCH_SHARDS``: jobs started by this client run each step's build, collect,
    decide, built-in tools and persist as this many concurrent activities, each on a slice
    of the agents. Set it to the number of worker processes (``worker.py --processes``) so
    that a large step uses every core; 1 suits small jobs and a single process."""
    event_loop: EventLoopKind = "uvloop"
    """``LETTA_BATCH_EVENT_LOOP``: the event loop of the worker and emulator processes
    (``letta_batch.event_loop``). uvloop moves the bytes of COPY streams, request bodies and
    results through sockets in C; ``asyncio`` keeps the standard library's loop, as does a
    platform without uvloop."""

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        state_dir = Path(env.get("LETTA_BATCH_STATE_DIR", str(DEFAULT_STATE_DIR)))
        # Validated as a mapping so a bad number names its field (e.g. batch_max_requests).
        return cls.model_validate(
            dict(
                database_url=env.get("DATABASE_URL") or default_database_url(state_dir),
                anthropic_api_key=env.get("ANTHROPIC_API_KEY") or None,
                anthropic_base_url=env.get("ANTHROPIC_BASE_URL") or None,
                temporal_address=env.get("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
                temporal_namespace=env.get("TEMPORAL_NAMESPACE", "default"),
                task_queue=env.get("LETTA_BATCH_TASK_QUEUE", "letta-batch"),
                organization_id=env.get("LETTA_BATCH_ORGANIZATION_ID", DEFAULT_ORGANIZATION_ID),
                state_dir=state_dir,
                batch_max_requests=env.get("LETTA_BATCH_MAX_REQUESTS") or None,
                batch_max_bytes=env.get("LETTA_BATCH_MAX_BYTES") or None,
                phase_shards=env.get("LETTA_BATCH_SHARDS") or 1,
                event_loop=env.get("LETTA_BATCH_EVENT_LOOP") or "uvloop",
            )
        )
