"""System prompt compile: Letta's ``PromptGenerator`` and ``_rebuild_memory_async``, pure.

``now`` and every count are passed in, so the text is a function of its inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from letta_batch.context.memory import compile_memory
from letta_batch.schemas.agent import Agent
from letta_batch.stepping.constants import CORE_MEMORY_PLACEHOLDER, DEFAULT_CONVERSATION_ID
from letta_batch.stepping.heartbeat import format_local_time
from letta_batch.tool_rules import ToolRulesSolver


def memory_metadata(
    agent_id: str,
    now: datetime,
    timezone: str | None,
    previous_message_count: int,
    archival_count: int,
    archival_tags: Sequence[str],
    *,
    conversation_id: str = DEFAULT_CONVERSATION_ID,
) -> str:
    """The ``<memory_metadata>`` block (spec §3).

    ``previous_message_count`` is the agent's total messages minus those in context. The
    archival line appears only when ``archival_count > 0``, the tags line only with tags
    (in the order given). The recall line is the spec's text; some Letta versions append
    " (use tools to access them)" to it.
    """
    lines = [
        "<memory_metadata>",
        f"- AGENT_ID: {agent_id}",
        f"- CONVERSATION_ID: {conversation_id}",
        f"- System prompt last recompiled: {format_local_time(now, timezone)}",
        f"- {previous_message_count} previous messages between you and the user are stored "
        "in recall memory",
    ]
    if archival_count > 0:
        lines.append(
            f"- {archival_count} total memories you created are stored in archival memory "
            "(use tools to access them)"
        )
    if archival_tags:
        lines.append(f"- Available archival memory tags: {', '.join(archival_tags)}")
    lines.append("</memory_metadata>")
    return "\n".join(lines)


def compile_system_message(agent: Agent, memory: str, metadata: str) -> str:
    """``agent.system`` with ``{CORE_MEMORY}`` replaced by ``memory + "\\n\\n" + metadata``;
    the placeholder is appended after a blank line when the template lacks it."""
    system = agent.system
    if CORE_MEMORY_PLACEHOLDER not in system:
        system += "\n\n" + CORE_MEMORY_PLACEHOLDER
    return system.replace(CORE_MEMORY_PLACEHOLDER, memory + "\n\n" + metadata)


def _template_present(system: str, current: str) -> bool:
    # Letta tests ``agent.system in current``. A template containing {CORE_MEMORY} can never
    # pass that test (the placeholder was replaced), so Letta rebuilt it -- and bumped the
    # timestamp -- on every step. We test the literal pieces around the placeholder, in order;
    # for templates without the placeholder this is exactly Letta's substring test.
    pos = 0
    for piece in system.split(CORE_MEMORY_PLACEHOLDER):
        found = current.find(piece, pos)
        if found < 0:
            return False
        pos = found + len(piece)
    return True


def needs_rebuild(agent: Agent, current_system_text: str, memory: str) -> bool:
    """Whether the system message must be recompiled: the template or the compiled memory
    is no longer contained in it. Timestamps and counts alone never trigger a rebuild."""
    return not (
        _template_present(agent.system, current_system_text) and memory in current_system_text
    )


def rebuild_system_prompt(
    agent: Agent,
    current_system_text: str,
    *,
    tool_rules_solver: ToolRulesSolver | None,
    now: datetime,
    previous_message_count: int,
    archival_count: int,
    archival_tags: Sequence[str] = (),
) -> str | None:
    """The new system text, or None when ``current_system_text`` is still up to date
    (or the recompiled text is identical). The message keeps its id (updated in place)."""
    memory = compile_memory(agent, tool_rules_solver=tool_rules_solver)
    if not needs_rebuild(agent, current_system_text, memory):
        return None
    metadata = memory_metadata(
        agent.id, now, agent.timezone, previous_message_count, archival_count, archival_tags
    )
    new_text = compile_system_message(agent, memory, metadata)
    return None if new_text == current_system_text else new_text
