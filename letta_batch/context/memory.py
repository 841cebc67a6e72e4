"""Core memory rendering: Letta's ``Memory.compile`` (``schemas/memory.py``), pure.

Differences from Letta's batch path: the ``<tool_usage_rules>`` block is rendered when a
solver is passed (batch Letta never passed one, §8.9). Sources / directories are not
rendered: batch agents have no attached sources here.
"""

from __future__ import annotations

from io import StringIO

from letta_batch.schemas.agent import Agent, Block
from letta_batch.schemas.enums import AgentType
from letta_batch.tool_rules import COMPILED_PROMPT_DESCRIPTION, ToolRulesSolver

CORE_MEMORY_LINE_NUMBER_WARNING = (
    "# NOTE: Line numbers shown below (with arrows like '1→') are to help during editing. "
    "Do NOT include line number prefixes in your memory edit tool calls."
)
"""Letta's warning above line-numbered block values."""

MEMORY_BLOCKS_HEADER = "<memory_blocks>\nThe following memory blocks are currently engaged in your core memory unit:\n\n"

#: Agent types that get no memory blocks rendered.
NO_BLOCK_AGENT_TYPES = frozenset({AgentType.react_agent, AgentType.workflow_agent})

#: Agent types whose block values are line-numbered on Anthropic.
LINE_NUMBERED_AGENT_TYPES = frozenset(
    {AgentType.sleeptime_agent, AgentType.memgpt_v2_agent, AgentType.letta_v1_agent}
)


def uses_line_numbers(agent: Agent) -> bool:
    """Letta numbers lines only for these agent types on the Anthropic endpoint."""
    return (
        agent.llm_config.model_endpoint_type == "anthropic"
        and agent.agent_type in LINE_NUMBERED_AGENT_TYPES
    )


def _render_block(s: StringIO, block: Block, line_numbered: bool) -> None:
    label = block.label or "block"
    value = block.value or ""
    s.write(f"<{label}>\n")
    s.write(f"<description>\n{block.description or ''}\n</description>\n")
    s.write("<metadata>")
    if block.read_only:
        s.write("\n- read_only=true")
    s.write(f"\n- chars_current={len(value)}")
    s.write(f"\n- chars_limit={block.limit}\n")
    s.write("</metadata>\n")
    if line_numbered:
        s.write(f"<warning>\n{CORE_MEMORY_LINE_NUMBER_WARNING}\n</warning>\n")
        s.write("<value>\n")
        if value:
            for i, line in enumerate(value.split("\n"), start=1):
                s.write(f"{i}→ {line}\n")
    else:
        s.write(f"<value>\n{value}\n")
    s.write("</value>\n")
    s.write(f"</{label}>\n")


def render_memory_blocks(blocks: list[Block], *, line_numbered: bool) -> str:
    """The ``<memory_blocks>`` section (blank line between blocks)."""
    s = StringIO()
    s.write(MEMORY_BLOCKS_HEADER)
    for idx, block in enumerate(blocks):
        _render_block(s, block, line_numbered)
        if idx != len(blocks) - 1:
            s.write("\n")
    s.write("\n</memory_blocks>")
    return s.getvalue()


def render_tool_usage_rules(rule_prompts: str) -> str:
    """The ``<tool_usage_rules>`` section (leading blank line included, as Letta)."""
    return f"\n\n<tool_usage_rules>\n{COMPILED_PROMPT_DESCRIPTION}\n\n{rule_prompts}\n</tool_usage_rules>"


def compile_memory(agent: Agent, *, tool_rules_solver: ToolRulesSolver | None) -> str:
    """Letta's ``Memory.compile`` for ``agent``: blocks (unless react/workflow), then the
    tool-rule block when ``tool_rules_solver`` compiles any rule prompt."""
    out = ""
    if agent.agent_type not in NO_BLOCK_AGENT_TYPES:
        out = render_memory_blocks(agent.blocks, line_numbered=uses_line_numbers(agent))
    if tool_rules_solver is not None:
        prompts = tool_rules_solver.compile_tool_rule_prompts()
        if prompts:
            out += render_tool_usage_rules(prompts)
    return out
