"""Memory.compile golden tests: exact strings."""

from __future__ import annotations

from letta_batch.context import compile_memory, uses_line_numbers
from letta_batch.schemas import Agent, AgentType, Block, LLMConfig
from letta_batch.tool_rules import (
    ContinueToolRule,
    RequiresApprovalToolRule,
    TerminalToolRule,
    ToolRulesSolver,
)

BLOCKS = [
    Block(
        id="block-1",
        label="persona",
        value="I am Sam.\nI like tea.",
        limit=5000,
        description="Who I am.",
    ),
    Block(
        id="block-2", label="human", value="Name: Ada", limit=100, description=None, read_only=True
    ),
]


def agent(
    agent_type: AgentType, endpoint: str = "anthropic", blocks: list[Block] = BLOCKS
) -> Agent:
    return Agent(
        id="agent-1",
        organization_id="org-1",
        name="sam",
        agent_type=agent_type,
        llm_config=LLMConfig(model="claude-sonnet-4-5", model_endpoint_type=endpoint),
        blocks=blocks,
    )


STANDARD = """<memory_blocks>
The following memory blocks are currently engaged in your core memory unit:

<persona>
<description>
Who I am.
</description>
<metadata>
- chars_current=21
- chars_limit=5000
</metadata>
<value>
I am Sam.
I like tea.
</value>
</persona>

<human>
<description>

</description>
<metadata>
- read_only=true
- chars_current=9
- chars_limit=100
</metadata>
<value>
Name: Ada
</value>
</human>

</memory_blocks>"""

WARNING = (
    "<warning>\n# NOTE: Line numbers shown below (with arrows like '1→') are to help during "
    "editing. Do NOT include line number prefixes in your memory edit tool calls.\n</warning>\n"
)

LINE_NUMBERED = f"""<memory_blocks>
The following memory blocks are currently engaged in your core memory unit:

<persona>
<description>
Who I am.
</description>
<metadata>
- chars_current=21
- chars_limit=5000
</metadata>
{WARNING}<value>
1→ I am Sam.
2→ I like tea.
</value>
</persona>

<human>
<description>

</description>
<metadata>
- read_only=true
- chars_current=9
- chars_limit=100
</metadata>
{WARNING}<value>
1→ Name: Ada
</value>
</human>

</memory_blocks>"""

RULES_BLOCK = (
    "\n\n<tool_usage_rules>\nThe following constraints define rules for tool usage and guide "
    "desired behavior. These rules must be followed to ensure proper tool execution and "
    "workflow. A single response may contain multiple tool calls.\n\n"
    "<tool_rule>\nsearch requires continuing your response when called\n</tool_rule>\n"
    "<tool_rule>\nsend_message ends your response (yields control) when called\n</tool_rule>\n"
    "</tool_usage_rules>"
)


def test_standard_rendering() -> None:
    assert compile_memory(agent(AgentType.memgpt_agent), tool_rules_solver=None) == STANDARD


def test_line_numbered_rendering_for_v2_types_on_anthropic() -> None:
    for agent_type in (
        AgentType.memgpt_v2_agent,
        AgentType.letta_v1_agent,
        AgentType.sleeptime_agent,
    ):
        a = agent(agent_type)
        assert uses_line_numbers(a)
        assert compile_memory(a, tool_rules_solver=None) == LINE_NUMBERED


def test_line_numbers_need_anthropic() -> None:
    a = agent(AgentType.memgpt_v2_agent, endpoint="openai")
    assert compile_memory(a, tool_rules_solver=None) == STANDARD


def test_empty_value_and_no_blocks() -> None:
    empty = [Block(id="b", label="notes", value="", limit=10, description="d")]
    numbered = compile_memory(
        agent(AgentType.memgpt_v2_agent, blocks=empty), tool_rules_solver=None
    )
    assert f"{WARNING}<value>\n</value>\n</notes>" in numbered
    standard = compile_memory(agent(AgentType.memgpt_agent, blocks=empty), tool_rules_solver=None)
    assert "<value>\n\n</value>" in standard
    no_blocks = compile_memory(agent(AgentType.memgpt_agent, blocks=[]), tool_rules_solver=None)
    assert no_blocks == (
        "<memory_blocks>\nThe following memory blocks are currently engaged in your core "
        "memory unit:\n\n\n</memory_blocks>"
    )


SOLVER = ToolRulesSolver(
    tool_rules=[ContinueToolRule(tool_name="search"), TerminalToolRule(tool_name="send_message")]
)


def test_tool_usage_rules_block() -> None:
    assert (
        compile_memory(agent(AgentType.memgpt_agent), tool_rules_solver=SOLVER)
        == STANDARD + RULES_BLOCK
    )


def test_react_and_workflow_agents_get_no_blocks() -> None:
    for agent_type in (AgentType.react_agent, AgentType.workflow_agent):
        assert compile_memory(agent(agent_type), tool_rules_solver=None) == ""
        assert compile_memory(agent(agent_type), tool_rules_solver=SOLVER) == RULES_BLOCK


def test_rules_without_prompts_add_nothing() -> None:
    solver = ToolRulesSolver(tool_rules=[RequiresApprovalToolRule(tool_name="x")])
    assert compile_memory(agent(AgentType.memgpt_agent), tool_rules_solver=solver) == STANDARD
