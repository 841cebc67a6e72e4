"""Builders of definitions-file dicts for the loader, scale and CLI tests."""

from __future__ import annotations

from typing import Any

CUSTOM_TOOL_SOURCE = '''
def lookup_order(order_id: str, include_items: bool = False) -> str:
    """Look up an order.

    Args:
        order_id (str): The order number.
        include_items (bool): Whether to list the items.
    """
    return order_id
'''


def custom_tool(fn_name: str = "lookup_order", **overrides: Any) -> dict[str, Any]:
    """The custom tool (name derived from the source); ``overrides`` set entry fields."""
    tool: dict[str, Any] = {
        "source_code": CUSTOM_TOOL_SOURCE.replace("lookup_order", fn_name),
        "tags": ["orders"],
    }
    tool.update(overrides)
    return tool


def agent(name: str, index: int = 0, **overrides: Any) -> dict[str, Any]:
    """A memgpt_v2 agent with 2–3 blocks, base tools, the custom tool and tool rules."""
    blocks = [
        {"label": "persona", "value": f"I am agent {name}.", "limit": 5000},
        {"label": "human", "value": "Unknown user.", "limit": 5000, "description": "The user."},
    ]
    if index % 2:
        blocks.append({"label": "notes", "value": "", "limit": 1000})
    data: dict[str, Any] = {
        "name": name,
        "model": "anthropic/claude-sonnet-4-5",
        "system": f"You are {name}.",
        "memory_blocks": blocks,
        "tools": ["lookup_order"],
        "tool_rules": [
            {"type": "run_first", "tool_name": "lookup_order"},
            {
                "type": "conditional",
                "tool_name": "lookup_order",
                "child_output_mapping": {"true": "send_message"},
                "default_child": "memory_replace",
            },
        ],
        "timezone": "America/New_York",
    }
    data.update(overrides)
    return data


def definitions(agent_count: int, prefix: str = "agent") -> dict[str, Any]:
    """A file with the custom tool and ``agent_count`` agents."""
    return {
        "tools": [custom_tool()],
        "agents": [agent(f"{prefix}-{i:05d}", i) for i in range(agent_count)],
    }
