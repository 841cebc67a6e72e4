"""Seeding helpers for repository tests (through the definitions loader)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from letta_batch.definitions import load_definitions
from letta_batch.schemas import Message, MessageRole, TextContent
from tests.definitions.factories import definitions


async def seed(
    factory: async_sessionmaker[AsyncSession], org_id: str, count: int = 3, **agent_overrides: Any
) -> dict[str, str]:
    """Load ``count`` agents for ``org_id``; returns name → id."""
    data = definitions(count)
    for entry in data["agents"]:
        entry.update(agent_overrides)
    async with factory() as session, session.begin():
        result = await load_definitions(session, org_id, data)
    return result.agent_ids


def user_message(agent_id: str, text: str, message_id: str) -> Message:
    return Message(
        id=message_id, agent_id=agent_id, role=MessageRole.user, content=[TextContent(text=text)]
    )
