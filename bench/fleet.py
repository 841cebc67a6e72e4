"""The agents the benchmarks step and the emulator scenario that drives them.

Step 0: every agent calls ``conversation_search`` with ``request_heartbeat=true`` (a built-in
tool running a full-text query per agent); step 1: ``send_message``, which ends the turn.

Fleets:

- ``letta``: Letta's base tools for memgpt_v2 agents (about 7.5 KB per request). A step of
  more than ~30,000 such agents exceeds one Anthropic batch's 256 MB.
- ``lean``: only ``send_message`` and ``conversation_search`` (about 2 KB per request), so a
  100,000-agent step fits one batch (the 100,000-agent run uses it).
"""

from __future__ import annotations

from typing import Any

FLEETS = ("letta", "lean")

SCENARIO: dict[str, Any] = {
    "rules": [
        {
            "match": {"agent_id": "agent-*", "step": 0},
            "reply": {
                "tool": "conversation_search",
                "input": {"query": "tea", "request_heartbeat": True},
            },
        },
        {
            "match": {"agent_id": "agent-*"},
            "reply": {
                "tool": "send_message",
                "input": {"message": "done", "request_heartbeat": False},
            },
        },
    ]
}


def agents(n: int, tag: str, fleet: str = "letta") -> dict[str, Any]:
    """A definitions file with ``n`` agents named ``b<i>-<tag>``."""
    if fleet not in FLEETS:
        raise ValueError(f"fleet: {fleet!r} is not one of {FLEETS}")
    tools: dict[str, Any] = (
        {}
        if fleet == "letta"
        else {
            "include_base_tools": False,
            "tools": ["send_message", "conversation_search"],
            "tool_rules": [{"type": "exit_loop", "tool_name": "send_message"}],
        }
    )
    return {
        "agents": [
            {
                "name": f"b{i}-{tag}",
                "model": "anthropic/claude-sonnet-4-5",
                "enable_reasoner": False,
                "system": "You are a benchmark agent. {CORE_MEMORY}",
                "memory_blocks": [
                    {"label": "human", "value": f"User {i}.", "limit": 2000},
                    {"label": "persona", "value": "Helpful.", "limit": 2000},
                ],
                **tools,
            }
            for i in range(n)
        ]
    }
