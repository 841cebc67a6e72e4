"""ORM models of the agent side: organizations, agents, blocks, tools, messages, passages.

Repositories mostly use the Core tables (``Model.__table__``) for bulk statements; the
classes document the schema and let callers use the ORM where convenient.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from letta_batch.db.base import Base
from letta_batch.db.types import JSONType, UTCDateTime


def _org_fk() -> Any:
    return ForeignKey("organizations.id", ondelete="CASCADE")


class OrganizationRow(Base):
    """A tenant; every other row carries its ``organization_id``."""

    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    name: Mapped[str] = mapped_column(String, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, server_default=func.now()
    )


class AgentRow(Base):
    """A stateful agent; ``message_ids[0]`` is its system message."""

    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    organization_id: Mapped[str] = mapped_column(String, _org_fk(), nullable=False)
    name: Mapped[str] = mapped_column(String, nullable=False)
    agent_type: Mapped[str] = mapped_column(String, nullable=False)
    system: Mapped[str] = mapped_column(Text, nullable=False, default="")
    llm_config: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    tool_rules: Mapped[list[Any]] = mapped_column(JSONType, nullable=False)
    """Lossless rule dicts (``TOOL_RULE_ADAPTER.dump_python(rules, mode="json")``)."""
    message_ids: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    message_buffer_autoclear: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    timezone: Mapped[str | None] = mapped_column(String, nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, server_default=func.now()
    )


class BlockRow(Base):
    """A core-memory block; ``version`` increments on every value change (optimistic lock)."""

    __tablename__ = "blocks"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    organization_id: Mapped[str] = mapped_column(String, _org_fk(), nullable=False, index=True)
    label: Mapped[str] = mapped_column(String, nullable=False)
    value: Mapped[str] = mapped_column(Text, nullable=False, default="")
    limit: Mapped[int] = mapped_column(Integer, nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    read_only: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    loaded_value_hash: Mapped[str | None] = mapped_column(String, nullable=True)
    """sha256 of the value a definitions file last set. The loader rewrites ``value`` only when
    the file's value changed since, so memory the agent edited survives re-loading a file."""
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, server_default=func.now()
    )


class AgentBlockRow(Base):
    """Attachment of a block to an agent, in display order."""

    __tablename__ = "agents_blocks"

    agent_id: Mapped[str] = mapped_column(
        String, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    block_id: Mapped[str] = mapped_column(
        String, ForeignKey("blocks.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class ToolRow(Base):
    """A tool; ``execution`` is the serialised ``ToolExecutionPolicy``."""

    __tablename__ = "tools"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    organization_id: Mapped[str] = mapped_column(String, _org_fk(), nullable=False)
    name: Mapped[str] = mapped_column(String, nullable=False)
    tool_type: Mapped[str] = mapped_column(String, nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    source_code: Mapped[str | None] = mapped_column(Text, nullable=True)
    json_schema: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    return_char_limit: Mapped[int] = mapped_column(Integer, nullable=False)
    tags: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    default_requires_approval: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    execution: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, server_default=func.now()
    )


class AgentToolRow(Base):
    """Attachment of a tool to an agent."""

    __tablename__ = "agents_tools"

    agent_id: Mapped[str] = mapped_column(
        String, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    tool_id: Mapped[str] = mapped_column(
        String, ForeignKey("tools.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class MessageRow(Base):
    """One message of an agent's history.

    ``sequence_id`` is assigned by the database in insertion order (an identity column on
    PostgreSQL, an AFTER INSERT trigger on SQLite); it orders history listings.
    ``search_text`` holds the message's plain text for full-text search; on PostgreSQL its
    vector is the generated column ``search_vector`` (GIN-indexed, not mapped: ``db.unmapped``).
    """

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_agent_id_created_at", "agent_id", "created_at"),
        Index("ix_messages_agent_id_sequence_id", "agent_id", "sequence_id"),
    )

    id: Mapped[str] = mapped_column(String, primary_key=True)
    organization_id: Mapped[str] = mapped_column(String, nullable=False)
    agent_id: Mapped[str] = mapped_column(
        String, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False
    )
    role: Mapped[str] = mapped_column(String, nullable=False)
    content: Mapped[list[Any]] = mapped_column(JSONType, nullable=False)
    name: Mapped[str | None] = mapped_column(String, nullable=True)
    model: Mapped[str | None] = mapped_column(String, nullable=True)
    tool_calls: Mapped[list[Any] | None] = mapped_column(JSONType, nullable=True)
    tool_call_id: Mapped[str | None] = mapped_column(String, nullable=True)
    tool_returns: Mapped[list[Any] | None] = mapped_column(JSONType, nullable=True)
    batch_item_id: Mapped[str | None] = mapped_column(String, nullable=True, index=True)
    step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    otid: Mapped[str | None] = mapped_column(String, nullable=True)
    # Nullable only on SQLite, where an AFTER INSERT trigger fills it (the migration differs
    # per dialect here); on PostgreSQL it is a NOT NULL identity column.
    sequence_id: Mapped[int] = mapped_column(BigInteger, Identity(), nullable=False, index=True)
    search_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, server_default=func.now()
    )


class PassageRow(Base):
    """An archival-memory passage (on PostgreSQL with the generated, GIN-indexed and unmapped
    ``search_vector`` of its text: ``db.unmapped``)."""

    __tablename__ = "passages"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    organization_id: Mapped[str] = mapped_column(String, nullable=False)
    agent_id: Mapped[str] = mapped_column(
        String, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    text: Mapped[str] = mapped_column(Text, nullable=False)
    tags: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, server_default=func.now()
    )
