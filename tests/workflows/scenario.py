"""Agents and a scripted emulator scenario for step-loop tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from letta_batch.definitions import load_definitions
from letta_batch.services.runtime import ServiceContext

WEATHER_SOURCE = '''
def get_weather(city: str) -> str:
    """Get the weather for a city.

    Args:
        city (str): The city.
    """
    import json
    return json.dumps({"city": city, "sky": "clear"})
'''

CLASSIFY_SOURCE = '''
def classify(text: str) -> str:
    """Classify a text as urgent or not.

    Args:
        text (str): The text.
    """
    return "urgent" if "!" in text else "calm"
'''


def definitions(suffix: str, extra_agents: int = 0) -> dict[str, Any]:
    """Three agents whose runs exercise heartbeats, terminal, child, conditional rules."""
    base = {
        "model": "anthropic/claude-sonnet-4-5",
        "enable_reasoner": False,
        "memory_blocks": [
            {"label": "human", "value": "Name unknown.", "limit": 2000},
            {"label": "persona", "value": "I help.", "limit": 2000},
        ],
    }
    agents = [
        # heartbeat continuation, then a terminal tool.
        {"name": f"heart-{suffix}", "system": "You are Heart. {CORE_MEMORY}", **base},
        # get_weather must be followed by send_message (child rule forces continuation).
        {
            "name": f"child-{suffix}",
            "system": "You are Child.",
            "tools": ["get_weather"],
            "tool_rules": [
                {
                    "type": "constrain_child_tools",
                    "tool_name": "get_weather",
                    "children": ["send_message"],
                }
            ],
            **base,
        },
        # classify routes on its output: "calm" -> send_message, "urgent" -> get_weather.
        {
            "name": f"cond-{suffix}",
            "system": "You are Cond.",
            "tools": ["classify", "get_weather"],
            "tool_rules": [
                {
                    "type": "conditional",
                    "tool_name": "classify",
                    "child_output_mapping": {"calm": "send_message", "urgent": "get_weather"},
                }
            ],
            **base,
        },
    ]
    agents += [
        {"name": f"bulk{i}-{suffix}", "system": "You are bulk.", **base}
        for i in range(extra_agents)
    ]
    return {
        "tools": [{"source_code": WEATHER_SOURCE}, {"source_code": CLASSIFY_SOURCE}],
        "agents": agents,
    }


async def load_agents(ctx: ServiceContext, org: str, data: dict[str, Any]) -> dict[str, str]:
    async with ctx.session_factory.begin() as session:
        result = await load_definitions(session, org, data)
    return result.agent_ids


def suffix() -> str:
    return uuid.uuid4().hex[:8]


def set_scenario(base_url: str, rules: list[dict[str, Any]]) -> None:
    response = httpx.put(f"{base_url}/_admin/scenario", json={"rules": rules})
    response.raise_for_status()


def clear_scenario(base_url: str) -> None:
    httpx.delete(f"{base_url}/_admin/scenario")


def admin_batches(base_url: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{base_url}/_admin/batches")
    response.raise_for_status()
    body = response.json()
    return body["data"] if isinstance(body, dict) and "data" in body else body


def tool(agent_id: str, step: int, name: str, **args: Any) -> dict[str, Any]:
    return {"match": {"agent_id": agent_id, "step": step}, "reply": {"tool": name, "input": args}}


def two_step_rules(heart: str, child: str) -> list[dict[str, Any]]:
    """``heart`` edits memory then replies; ``child`` calls get_weather (its child rule forces
    a second step) then replies: both end on the terminal send_message at step 1."""
    return [
        tool(
            heart,
            0,
            "memory_insert",
            label="human",
            new_string="Likes tea.",
            request_heartbeat=True,
        ),
        tool(heart, 1, "send_message", message="Noted.", request_heartbeat=False),
        tool(child, 0, "get_weather", city="Paris", request_heartbeat=False),
        tool(child, 1, "send_message", message="Sunny.", request_heartbeat=False),
    ]
