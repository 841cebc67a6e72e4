"""Messages: bulk reads (by id, in-context per agent), idempotent bulk insert, bulk updates."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch.db import models as m
from letta_batch.repositories.bulk import (
    dialect_name,
    in_values,
    insert_ignore,
    insert_rows,
    update_rows,
)
from letta_batch.repositories.rows import message_from_row, message_to_row
from letta_batch.schemas import Agent, Message
from letta_batch.schemas.message import TextContent

log = logging.getLogger(__name__)


def in_context_ids(agent: Agent, *, autoclear: bool = True) -> list[str]:
    """The message ids in ``agent``'s context: all of ``message_ids``, or only the system
    message (``[0]``) when ``message_buffer_autoclear`` is set (Letta's behaviour) and
    ``autoclear`` lets it apply."""
    if autoclear and agent.message_buffer_autoclear:
        return agent.message_ids[:1]
    return list(agent.message_ids)


async def load_messages(
    session: AsyncSession, org_id: str, message_ids: Iterable[str]
) -> dict[str, Message]:
    """Messages by id in one query; unknown ids and other organizations' messages are absent."""
    ids = list(dict.fromkeys(message_ids))
    if not ids:
        return {}
    t = m.messages
    rows = await session.execute(
        select(t).where(
            t.c.organization_id == org_id, in_values(t.c.id, ids, dialect_name(session))
        )
    )
    return {r["id"]: message_from_row(r) for r in rows.mappings()}


def in_order(found: Mapping[str, Message], agent_id: str, ids: Sequence[str]) -> list[Message]:
    """The messages of ``ids`` in that order, from ``found`` (:func:`load_messages`); ids
    that no longer resolve are skipped and logged."""
    messages = [found[i] for i in ids if i in found]
    if len(messages) != len(ids):
        log.warning(
            "agent %s: %d in-context message ids do not resolve",
            agent_id,
            len(ids) - len(messages),
        )
    return messages


async def load_in_context_messages(
    session: AsyncSession, org_id: str, agents: Iterable[Agent], *, autoclear: bool = True
) -> dict[str, list[Message]]:
    """Each agent's in-context messages, in ``message_ids`` order, in ONE query for all agents.

    ``autoclear=False`` ignores ``message_buffer_autoclear`` (during a job every agent sees
    the whole run). Ids that no longer resolve to a message are skipped (and logged).
    """
    wanted = {agent.id: in_context_ids(agent, autoclear=autoclear) for agent in agents}
    found = await load_messages(session, org_id, (i for ids in wanted.values() for i in ids))
    result: dict[str, list[Message]] = {}
    for agent_id, ids in wanted.items():
        result[agent_id] = in_order(found, agent_id, ids)
    return result


async def insert_messages(session: AsyncSession, org_id: str, messages: Sequence[Message]) -> None:
    """Insert messages in one statement; ids that already exist are skipped.

    Idempotent, so a retried writer that re-derives the same ids adds nothing. Rows get
    ``organization_id=org_id``, ``created_at`` (now when unset), the database-assigned
    ``sequence_id`` (insertion order) and ``search_text``.
    """
    if not messages:
        return
    rows = [message_to_row(msg, org_id) for msg in messages]
    await insert_ignore(session, m.messages, rows, conflict_columns=["id"])


async def insert_new_messages(
    session: AsyncSession, org_id: str, messages: Sequence[Message]
) -> None:
    """Insert messages that cannot exist yet, in one statement (``COPY`` on PostgreSQL).

    For writers whose transaction also records that the messages were written (a step's
    items and their messages commit together): there, an id that exists means another
    attempt committed first, and failing the transaction is right, since it rolls back
    whatever this attempt did besides (tool effects included). It saves what
    :func:`insert_messages` pays for skipping (a stage, and a speculative insertion per
    row): ~2 % of PostgreSQL's CPU per step at 10,000 agents. Same row values and order.
    """
    if not messages:
        return
    await insert_rows(session, m.messages, [message_to_row(msg, org_id) for msg in messages])


async def update_system_messages(
    session: AsyncSession, org_id: str, texts: Mapping[str, str]
) -> None:
    """Rewrite the text of many (system) messages in place, in one UPDATE statement.

    ``texts`` maps message id → the recompiled system prompt; the id stays the same.
    """
    if not texts:
        return
    await update_rows(
        session,
        m.messages,
        [
            {
                "id": message_id,
                "content": [TextContent(text=text).model_dump(mode="json")],
                "search_text": None,  # system messages are not searched (UNSEARCHED_ROLES)
            }
            for message_id, text in texts.items()
        ],
        organization_id=org_id,
    )


async def list_agent_messages(
    session: AsyncSession,
    org_id: str,
    agent_id: str,
    *,
    after_sequence_id: int | None = None,
    limit: int = 100,
) -> list[tuple[int, Message]]:
    """An agent's whole history (not only in-context) in insertion order, as
    ``(sequence_id, message)`` pairs; page with ``after_sequence_id``."""
    t = m.messages
    stmt = select(t).where(t.c.organization_id == org_id, t.c.agent_id == agent_id)
    if after_sequence_id is not None:
        stmt = stmt.where(t.c.sequence_id > after_sequence_id)
    rows = await session.execute(stmt.order_by(t.c.sequence_id).limit(limit))
    return [(r["sequence_id"], message_from_row(r)) for r in rows.mappings()]
