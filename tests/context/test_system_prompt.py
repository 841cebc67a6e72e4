"""System prompt compile: metadata block, {CORE_MEMORY} handling, rebuild rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from letta_batch.context import (
    compile_memory,
    compile_system_message,
    memory_metadata,
    needs_rebuild,
    rebuild_system_prompt,
)
from letta_batch.schemas import Agent, AgentType, Block, LLMConfig

NOW = datetime(2025, 6, 1, 15, 4, 5, tzinfo=UTC)


def agent(
    system: str = "You are Sam.", value: str = "I like tea.", tz: str | None = "UTC"
) -> Agent:
    return Agent(
        id="agent-1",
        organization_id="org-1",
        name="sam",
        agent_type=AgentType.memgpt_agent,
        system=system,
        timezone=tz,
        llm_config=LLMConfig(model="claude-sonnet-4-5"),
        blocks=[Block(id="block-1", label="persona", value=value, description="me")],
    )


def test_memory_metadata_full() -> None:
    text = memory_metadata("agent-1", NOW, "America/Los_Angeles", 12, 3, ["work", "home"])
    assert text == (
        "<memory_metadata>\n"
        "- AGENT_ID: agent-1\n"
        "- CONVERSATION_ID: default\n"
        "- System prompt last recompiled: 2025-06-01 08:04:05 AM PDT-0700\n"
        "- 12 previous messages between you and the user are stored in recall memory\n"
        "- 3 total memories you created are stored in archival memory (use tools to access them)\n"
        "- Available archival memory tags: work, home\n"
        "</memory_metadata>"
    )


def test_memory_metadata_minimal() -> None:
    assert memory_metadata("agent-1", NOW, None, 0, 0, []) == (
        "<memory_metadata>\n"
        "- AGENT_ID: agent-1\n"
        "- CONVERSATION_ID: default\n"
        "- System prompt last recompiled: 2025-06-01 03:04:05 PM UTC+0000\n"
        "- 0 previous messages between you and the user are stored in recall memory\n"
        "</memory_metadata>"
    )


@pytest.mark.parametrize(
    ("system", "expected"),
    [
        ("You are Sam.", "You are Sam.\n\nMEM\n\nMETA"),
        ("Before\n{CORE_MEMORY}\nAfter", "Before\nMEM\n\nMETA\nAfter"),
        ("", "\n\nMEM\n\nMETA"),
    ],
)
def test_compile_system_message(system: str, expected: str) -> None:
    assert compile_system_message(agent(system), "MEM", "META") == expected


@pytest.mark.parametrize("system", ["You are Sam.", "Intro\n{CORE_MEMORY}\nOutro"])
def test_needs_rebuild(system: str) -> None:
    a = agent(system)
    memory = compile_memory(a, tool_rules_solver=None)
    current = compile_system_message(a, memory, memory_metadata(a.id, NOW, "UTC", 1, 0, []))
    assert not needs_rebuild(a, current, memory)
    # A different timestamp or count alone never triggers a rebuild.
    later = compile_system_message(
        a, memory, memory_metadata(a.id, NOW + timedelta(days=1), "UTC", 9, 2, [])
    )
    assert not needs_rebuild(a, later, memory)
    # Changed memory or a changed template does.
    edited = agent(system, value="I like coffee.")
    assert needs_rebuild(edited, current, compile_memory(edited, tool_rules_solver=None))
    assert needs_rebuild(agent(system + " Be kind."), current, memory)


def test_rebuild_system_prompt() -> None:
    a = agent()
    first = rebuild_system_prompt(
        a, "stale", tool_rules_solver=None, now=NOW, previous_message_count=4, archival_count=0
    )
    assert first == compile_system_message(
        a, compile_memory(a, tool_rules_solver=None), memory_metadata(a.id, NOW, "UTC", 4, 0, [])
    )
    again = rebuild_system_prompt(
        a,
        first,
        tool_rules_solver=None,
        now=NOW + timedelta(hours=1),
        previous_message_count=9,
        archival_count=1,
    )
    assert again is None
