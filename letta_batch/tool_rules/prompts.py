"""Fixed prompt texts for tool rules (Letta's default ``render_prompt()`` templates).

Letta renders these through Jinja2 from a per-rule ``prompt_template``; we accept that
field for compatibility but always render the defaults below (spec §2), so rendering is a
pure string format with no template engine and no way for rule data to inject markup.
"""

from __future__ import annotations

from collections.abc import Sequence

COMPILED_PROMPT_DESCRIPTION = (
    "The following constraints define rules for tool usage and guide desired behavior. "
    "These rules must be followed to ensure proper tool execution and workflow. "
    "A single response may contain multiple tool calls."
)
"""Description of the ephemeral ``tool_usage_rules`` block (Letta's exact text)."""

COMPILED_PROMPT_LABEL = "tool_usage_rules"
"""Label Letta gives the ephemeral block that carries the compiled rule prompts."""


def _join(names: Sequence[str]) -> str:
    # Jinja's ``children | join(', ')`` in Letta's templates.
    return ", ".join(names)


def terminal_prompt(tool_name: str) -> str:
    """Prompt for an ``exit_loop`` rule."""
    return f"<tool_rule>\n{tool_name} ends your response (yields control) when called\n</tool_rule>"


def continue_prompt(tool_name: str) -> str:
    """Prompt for a ``continue_loop`` rule."""
    return f"<tool_rule>\n{tool_name} requires continuing your response when called\n</tool_rule>"


def child_prompt(tool_name: str, children: Sequence[str]) -> str:
    """Prompt for a ``constrain_child_tools`` rule."""
    return (
        f"<tool_rule>\nAfter using {tool_name}, you must use one of these tools: "
        f"{_join(children)}\n</tool_rule>"
    )


def parent_prompt(tool_name: str, children: Sequence[str]) -> str:
    """Prompt for a ``parent_last_tool`` rule."""
    return f"<tool_rule>\n{_join(children)} can only be used after {tool_name}\n</tool_rule>"


def conditional_prompt(tool_name: str) -> str:
    """Prompt for a ``conditional`` rule."""
    return (
        f"<tool_rule>\n{tool_name} will determine which tool to use next based on its output\n"
        "</tool_rule>"
    )


def max_count_prompt(tool_name: str, max_count_limit: int) -> str:
    """Prompt for a ``max_count_per_step`` rule."""
    return f"<tool_rule>\n{tool_name}: at most {max_count_limit} use(s) per response\n</tool_rule>"


def required_before_exit_prompt(tool_name: str) -> str:
    """Prompt for a ``required_before_exit`` rule (no trailing/leading newlines, as Letta)."""
    return f"<tool_rule>{tool_name} must be called before ending the conversation</tool_rule>"
