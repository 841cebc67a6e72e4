"""ORM models of the batch side: jobs, their agents and inputs, provider batches, items,
tool executions.

Status columns hold the ``StrEnum`` values as plain strings (no database enum types), so a new
status never needs a migration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from letta_batch.db.base import Base
from letta_batch.db.types import JSONType, UTCDateTime

__all__ = [
    "BatchJobAgentRow",
    "BatchJobInputRow",
    "BatchJobRow",
    "LLMBatchItemRow",
    "LLMBatchJobRow",
    "LLMBatchPartRow",
    "RequestToolSetRow",
    "ToolExecutionRow",
]


class BatchJobRow(Base):
    """A Letta batch job (one workflow)."""

    __tablename__ = "batch_jobs"
    __table_args__ = (UniqueConstraint("organization_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    organization_id: Mapped[str] = mapped_column(
        String, ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[str] = mapped_column(String, nullable=False, index=True)
    max_steps: Mapped[int] = mapped_column(Integer, nullable=False)
    agent_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    current_step: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    stop_reason: Mapped[str | None] = mapped_column(String, nullable=True)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, nullable=False)
    callback_url: Mapped[str | None] = mapped_column(String, nullable=True)
    callback_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    callback_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    callback_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String, nullable=True)
    request_config: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, server_default=func.now()
    )
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class BatchJobAgentRow(Base):
    """One agent's membership and outcome in a job."""

    __tablename__ = "batch_job_agents"
    __table_args__ = (Index("ix_batch_job_agents_job_id_status", "job_id", "status"),)

    job_id: Mapped[str] = mapped_column(
        String, ForeignKey("batch_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[str] = mapped_column(
        String, ForeignKey("agents.id"), primary_key=True, index=True
    )
    organization_id: Mapped[str] = mapped_column(String, nullable=False)
    status: Mapped[str] = mapped_column(String, nullable=False)
    stop_reason: Mapped[str | None] = mapped_column(String, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    steps: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class BatchJobInputRow(Base):
    """The input messages submitted for one agent of a job (``MessageCreate`` dicts)."""

    __tablename__ = "batch_job_inputs"
    __table_args__ = (UniqueConstraint("job_id", "agent_id"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    job_id: Mapped[str] = mapped_column(
        String, ForeignKey("batch_jobs.id", ondelete="CASCADE"), nullable=False
    )
    agent_id: Mapped[str] = mapped_column(String, nullable=False)
    organization_id: Mapped[str] = mapped_column(String, nullable=False)
    messages: Mapped[list[Any]] = mapped_column(JSONType, nullable=False)


class LLMBatchJobRow(Base):
    """One step of one job: its requests, sent as one or more provider batches (parts).

    A step larger than one provider batch allows (100,000 requests or 256 MB at Anthropic)
    is split by ``build`` into parts, each its own provider batch (`LLMBatchPartRow`). The
    columns here are the step's aggregate: ``status`` and ``request_counts`` over all parts,
    ``ended_at`` when the last part ended.
    """

    __tablename__ = "llm_batch_jobs"
    __table_args__ = (UniqueConstraint("letta_batch_job_id", "step"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    organization_id: Mapped[str] = mapped_column(String, nullable=False)
    letta_batch_job_id: Mapped[str] = mapped_column(
        String, ForeignKey("batch_jobs.id", ondelete="CASCADE"), nullable=False
    )
    step: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String, nullable=False, index=True)
    llm_provider: Mapped[str] = mapped_column(String, nullable=False)
    provider_batch_id: Mapped[str | None] = mapped_column(String, nullable=True, index=True)
    """The first sent part's provider batch (what status displays show); every part's is in
    ``llm_batch_parts``."""
    request_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    request_counts: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, server_default=func.now()
    )


class LLMBatchPartRow(Base):
    """One provider batch: part ``part`` of a step's requests (migration 0004).

    Parts are numbered from 0 in the order ``build`` filled them; each is sent, polled,
    collected and cancelled on its own, with its own send intent, so a retry after a crash
    re-sends only the parts that have no provider batch yet.
    """

    __tablename__ = "llm_batch_parts"

    llm_batch_id: Mapped[str] = mapped_column(
        String, ForeignKey("llm_batch_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    part: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[str] = mapped_column(String, nullable=False)
    status: Mapped[str] = mapped_column(String, nullable=False)
    """A `ProviderBatchStatus` value, for this part alone."""
    provider_batch_id: Mapped[str | None] = mapped_column(String, nullable=True, unique=True)
    request_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    request_bytes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    """Exact size of the part's create body, as planned by ``build``."""
    request_counts: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    create_batch_response: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    latest_polling_response: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    """Why the provider refused this part (status ``failed``)."""
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    intent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, server_default=func.now()
    )


class LLMBatchItemRow(Base):
    """One agent's request in one provider batch; ``id`` is the request's ``custom_id``."""

    __tablename__ = "llm_batch_items"
    # No index on the status columns: every phase changes one of them on every row, and
    # leaving them unindexed lets those updates be HOT (migration 0005; the unique index
    # below serves lookups by batch). The partial index finds an agent's latest kept turns
    # for a job's first step (migration 0009); no phase changes the columns it covers.
    __table_args__ = (
        UniqueConstraint("llm_batch_id", "agent_id"),
        Index(
            "ix_llm_batch_items_agent_id_kept_turns",
            "agent_id",
            "created_at",
            postgresql_where=text("context_turns IS NOT NULL"),
            sqlite_where=text("context_turns IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String, primary_key=True)
    organization_id: Mapped[str] = mapped_column(String, nullable=False)
    llm_batch_id: Mapped[str] = mapped_column(
        String, ForeignKey("llm_batch_jobs.id", ondelete="CASCADE"), nullable=False
    )
    letta_batch_job_id: Mapped[str] = mapped_column(String, nullable=False, index=True)
    agent_id: Mapped[str] = mapped_column(
        String, ForeignKey("agents.id"), nullable=False, index=True
    )
    step: Mapped[int] = mapped_column(Integer, nullable=False)
    llm_config: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    request_status: Mapped[str] = mapped_column(String, nullable=False)
    step_status: Mapped[str] = mapped_column(String, nullable=False)
    step_state: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    part: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    """Which provider batch of the step carries this request (`LLMBatchPartRow.part`)."""
    request_body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    """The provider request params as compact JSON bytes, spliced verbatim into the batch
    body by ``send`` (migration 0002 says why not JSONB). NULL when the item was not sent.
    Without its ``tools`` array when ``request_tools_id`` is set (migration 0007)."""
    request_tools_id: Mapped[str | None] = mapped_column(String, nullable=True)
    """The shared ``tools`` array the request sends (``RequestToolSetRow.id``). No foreign
    key: the row is written in the same transaction, and a check per item costs a lookup."""
    request_tools_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Byte offset in ``request_body`` where that array goes back (``stored_request``)."""
    context_turns: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    """The request's history as converted turns (``providers/anthropic/context_turns.py``),
    so that the next step's build converts only the messages added since (migration 0008).
    NULL when the item was not sent, or its history could not be kept."""
    batch_request_result: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    stop_reason: Mapped[str | None] = mapped_column(String, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, server_default=func.now()
    )


class RequestToolSetRow(Base):
    """A ``tools`` array that many requests of one step send, stored once (migration 0007).

    Never updated. The id derives from the step's batch, the shard and the array's SHA-256:
    one row per distinct array per shard, written in the shard's build transaction, so
    shards building at once never insert the same row."""

    __tablename__ = "request_tool_sets"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    llm_batch_id: Mapped[str] = mapped_column(
        String, ForeignKey("llm_batch_jobs.id", ondelete="CASCADE"), nullable=False, index=True
    )
    tools: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    """The array as compact JSON bytes, exactly as it is spliced into each request."""
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, server_default=func.now()
    )


class ToolExecutionRow(Base):
    """One tool call's execution record (at most one per item and provider call id)."""

    __tablename__ = "tool_executions"
    __table_args__ = (UniqueConstraint("batch_item_id", "tool_call_id"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    organization_id: Mapped[str] = mapped_column(String, nullable=False)
    batch_item_id: Mapped[str] = mapped_column(String, nullable=False)
    tool_call_id: Mapped[str] = mapped_column(String, nullable=False)
    agent_id: Mapped[str] = mapped_column(String, nullable=False, index=True)
    tool_name: Mapped[str] = mapped_column(String, nullable=False)
    status: Mapped[str] = mapped_column(String, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    args: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    result: Mapped[Any] = mapped_column(JSONType, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, server_default=func.now()
    )
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
