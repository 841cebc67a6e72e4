"""Give benchmark agents a conversation history before the job starts (``--history TURNS``).

A freshly defined agent holds only its system message, so a benchmark job measures
requests of a few messages. Agents in production carry a long in-context history, and
``build`` loads, validates and renders all of it on every step. Each seeded turn is what a
finished Letta step leaves behind: the user's message, the assistant's ``send_message``
call and its tool return, three messages. They are written through the same repository
calls as ``persist`` and appended to ``message_ids`` after the system message.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from letta_batch import ids
from letta_batch.repositories.agents import load_agents, set_message_ids
from letta_batch.repositories.messages import insert_messages
from letta_batch.schemas import Message, TextContent
from letta_batch.schemas.enums import MessageRole
from letta_batch.schemas.message import ToolCall, ToolCallFunction
from letta_batch.services.runtime import ServiceContext
from letta_batch.stepping.messages import (
    ASSISTANT_SLOT,
    input_slot,
    message_id,
    tool_message,
)

#: Agents seeded per transaction (a turn is three rows, so 2,000 agents x 30 turns is
#: 180,000 rows in one statement).
SEED_CHUNK = 2_000
#: The seeded history ends this long before the job starts.
HISTORY_AGE = timedelta(days=1)


def _turn(agent_id: str, org: str, index: int, at: datetime) -> list[Message]:
    item = ids.derived_id("bench_turn", agent_id, str(index))
    call_id = f"toolu_bench_{index:05d}_{agent_id[-12:]}"
    said = f"Noted, message {index} is about tea and the weather."
    return [
        Message(
            id=message_id(item, input_slot(0)),
            agent_id=agent_id,
            organization_id=org,
            role=MessageRole.user,
            content=[TextContent(text=f"Message {index}: I like tea when it rains.")],
            created_at=at,
        ),
        Message(
            id=message_id(item, ASSISTANT_SLOT),
            agent_id=agent_id,
            organization_id=org,
            role=MessageRole.assistant,
            content=[TextContent(text="The user shares a preference; I reply briefly.")],
            tool_calls=[
                ToolCall(
                    id=call_id,
                    function=ToolCallFunction(
                        name="send_message",
                        arguments=json.dumps({"message": said, "request_heartbeat": False}),
                    ),
                )
            ],
            tool_call_id=call_id,
            created_at=at,
        ),
        tool_message(
            agent_id,
            item,
            index,
            tool_call_id=call_id,
            tool_name="send_message",
            succeeded=True,
            func_return="None",
            now=at,
            timezone=None,
            organization_id=org,
        ),
    ]


async def seed_history(ctx: ServiceContext, org: str, agent_ids: Sequence[str], turns: int) -> int:
    """Append ``turns`` finished turns to each agent's history; returns messages written."""
    if turns <= 0:
        return 0
    start = datetime.now(UTC) - HISTORY_AGE
    written = 0
    for offset in range(0, len(agent_ids), SEED_CHUNK):
        chunk = list(agent_ids[offset : offset + SEED_CHUNK])
        async with ctx.session_factory.begin() as session:
            agents = await load_agents(session, org, chunk)
            messages: list[Message] = []
            new_ids: dict[str, list[str]] = {}
            for agent_id in chunk:
                history = [
                    m
                    for i in range(turns)
                    for m in _turn(agent_id, org, i, start + timedelta(seconds=i))
                ]
                messages += history
                new_ids[agent_id] = [
                    *agents[agent_id].message_ids[:1],  # the system message stays first
                    *(m.id for m in history),
                    *agents[agent_id].message_ids[1:],
                ]
            await insert_messages(session, org, messages)
            await set_message_ids(session, org, new_ids)
            written += len(messages)
    return written
