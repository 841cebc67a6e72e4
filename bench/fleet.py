"""The agents the benchmarks step and the emulator scenario that drives them.

Fleets:

- ``letta``: Letta's base tools and rules for memgpt_v2 agents, two memory blocks (about
  9.6 KB per request). Step 0: every agent calls ``conversation_search`` with
  ``request_heartbeat=true`` (a built-in tool running a full-text query per agent); step 1:
  ``send_message``, which ends the turn. A step of more than ~26,000 such agents exceeds one
  Anthropic batch's 256 MB, so the provider (and the emulator) refuse it.
- ``lean``: one tool, ``send_message`` without a terminal rule, no memory blocks (about
  1.5 KB per request on step 0, 2.2 KB on step 1) so that a 100,000-agent step fits one
  batch. Step 0: ``send_message`` with ``request_heartbeat=true``; step 1: without.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FLEETS = ("letta", "lean")


def scenario(fleet: str = "letta") -> dict[str, Any]:
    """The emulator scenario for ``fleet``."""
    if fleet == "lean":
        return LEAN_SCENARIO
    return SCENARIO


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


LEAN_SCENARIO: dict[str, Any] = {
    "rules": [
        {
            "match": {"agent_id": "agent-*", "step": 0},
            "reply": {
                "tool": "send_message",
                "input": {"message": "working on it", "request_heartbeat": True},
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
    blocks: list[dict[str, Any]] = []
    if fleet == "letta":
        blocks = [
            {"label": "human", "value": "User {i}.", "limit": 2000},
            {"label": "persona", "value": "Helpful.", "limit": 2000},
        ]
    tools: dict[str, Any] = (
        {} if fleet == "letta" else {"include_base_tools": False, "tools": ["send_message"]}
    )
    return {
        "agents": [
            {
                "name": f"b{i}-{tag}",
                "model": "anthropic/claude-sonnet-4-5",
                "enable_reasoner": False,
                "system": "You are a benchmark agent. {CORE_MEMORY}",
                "memory_blocks": [{**b, "value": b["value"].format(i=i)} for b in blocks],
                **tools,
            }
            for i in range(n)
        ]
    }


def job_requests(agent_ids: Iterable[str]) -> dict[str, Any]:
    """A job's input for both benchmarks: every agent gets the message ``hi``."""
    return {"requests": [{"agent_id": a, "input": "hi"} for a in agent_ids]}
