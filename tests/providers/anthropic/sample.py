"""A sample agent and history for request-builder tests (fixed ids and texts, no clock)."""

from __future__ import annotations

import json
from typing import Any

from letta_batch.schemas import (
    Agent,
    AgentType,
    Block,
    LLMConfig,
    Message,
    MessageRole,
    ReasoningContent,
    TextContent,
    Tool,
    ToolCall,
    ToolCallFunction,
    ToolReturn,
    ToolType,
)
from letta_batch.tool_rules import ChildToolRule, TerminalToolRule, ToolRulesSolver

AGENT_ID = "agent-00000000-0000-4000-8000-000000000001"
ORG_ID = "org-00000000-0000-4000-8000-000000000000"
TOOL_CALL_ID = "toolu_01D7FLrfh4GYq7yT1ULFeyMV"
SIGNATURE = "EqQBCkYIBRgCIkBsig-sample-signature=="
SONNET_4 = "claude-sonnet-4-20250514"

SEND_MESSAGE = Tool(
    id="tool-00000000-0000-4000-8000-00000000000a",
    name="send_message",
    tool_type=ToolType.letta_core,
    json_schema={
        "name": "send_message",
        "description": "Sends a message to the human user.",
        "parameters": {
            "type": "object",
            "properties": {
                "message": {
                    "type": "string",
                    "description": "Message contents. All unicode (including emojis) are supported.",
                }
            },
            "required": ["message"],
        },
    },
)
CORE_MEMORY_APPEND = Tool(
    id="tool-00000000-0000-4000-8000-00000000000b",
    name="core_memory_append",
    tool_type=ToolType.letta_memory_core,
    json_schema={
        "name": "core_memory_append",
        "description": "Append to the contents of core memory.",
        "parameters": {
            "type": "object",
            "properties": {
                "label": {"type": "string", "description": "Section of the memory to be edited."},
                "content": {"type": "string", "description": "Content to write to the memory."},
            },
            "required": ["label", "content"],
        },
    },
)
GET_WEATHER = Tool(
    id="tool-00000000-0000-4000-8000-00000000000c",
    name="get_weather",
    tool_type=ToolType.custom,
    description="Get the current weather for a city.",
    json_schema={
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Paris."},
                "units": {
                    "type": ["string", "null"],
                    "enum": ["metric", "imperial"],
                    "default": "metric",
                    "description": "Unit system.",
                },
            },
            "required": ["city"],
        },
    },
)
TOOLS = [SEND_MESSAGE, CORE_MEMORY_APPEND, GET_WEATHER]
RULES = [
    TerminalToolRule(tool_name="send_message"),
    ChildToolRule(tool_name="get_weather", children=["send_message"]),
]
SYSTEM_TEXT = """You are Sam, a helpful assistant with a persistent memory.

<memory_blocks>
The following memory blocks are currently engaged in your core memory unit:

<persona>
<description>
The persona block: Stores details about your current persona.
</description>
<metadata>
- chars_current=27
- chars_limit=5000
</metadata>
<value>
1→ I am Sam. I like weather.
</value>
</persona>

<human>
<description>
The human block: Stores key details about the person you are conversing with.
</description>
<metadata>
- chars_current=14
- chars_limit=5000
</metadata>
<value>
1→ Name: Chad.
</value>
</human>

</memory_blocks>

<memory_metadata>
- AGENT_ID: agent-00000000-0000-4000-8000-000000000001
- CONVERSATION_ID: default
- System prompt last recompiled: 2025-06-01 03:04:05 PM UTC+0000
- 3 previous messages between you and the user are stored in recall memory
</memory_metadata>"""
TOOL_RESPONSE = json.dumps(
    {"status": "OK", "message": "Sunny, 21°C", "time": "2025-06-01 03:04:07 PM UTC+0000"},
    indent=2,
    ensure_ascii=False,
)
HEARTBEAT = json.dumps(
    {
        "type": "heartbeat",
        "reason": "[This is an automated system message hidden from the user] "
        "Function called using request_heartbeat=true, returning control",
        "time": "2025-06-01 03:04:07 PM UTC+0000",
    },
    indent=2,
)


def sample_agent(**llm: Any) -> Agent:
    config = {
        "model": SONNET_4,
        "max_tokens": 8192,
        "max_reasoning_tokens": 2048,
        "temperature": 0.7,
        **llm,
    }
    agent_type = config.pop("agent_type", AgentType.memgpt_v2_agent)
    return Agent(
        id=AGENT_ID,
        organization_id=ORG_ID,
        name="sam",
        agent_type=agent_type,
        system="You are Sam, a helpful assistant with a persistent memory.\n\n{CORE_MEMORY}",
        llm_config=LLMConfig(**config),
        tools=TOOLS,
        tool_rules=RULES,
        blocks=[
            Block(id="block-1", label="persona", value="I am Sam. I like weather.", limit=5000),
            Block(id="block-2", label="human", value="Name: Chad.", limit=5000),
        ],
    )


def _msg(n: int, role: MessageRole, **kw: Any) -> Message:
    return Message(
        id=f"message-00000000-0000-4000-8000-{n:012d}", agent_id=AGENT_ID, role=role, **kw
    )


def sample_history(model: str | None = SONNET_4) -> list[Message]:
    """system, user input, assistant (thinking + tool call), tool return, heartbeat."""
    args = {"city": "Paris", "request_heartbeat": True}
    return [
        _msg(1, MessageRole.system, content=[TextContent(text=SYSTEM_TEXT)]),
        _msg(2, MessageRole.user, content=[TextContent(text="What's the weather in Paris?")]),
        _msg(
            3,
            MessageRole.assistant,
            model=model,
            content=[
                ReasoningContent(reasoning="The user wants Paris weather.", signature=SIGNATURE)
            ],
            tool_calls=[
                ToolCall(
                    id=TOOL_CALL_ID,
                    function=ToolCallFunction(name="get_weather", arguments=json.dumps(args)),
                )
            ],
        ),
        _msg(
            4,
            MessageRole.tool,
            name="get_weather",
            tool_call_id=TOOL_CALL_ID,
            content=[TextContent(text=TOOL_RESPONSE)],
            tool_returns=[
                ToolReturn(tool_call_id=TOOL_CALL_ID, status="success", func_response=TOOL_RESPONSE)
            ],
        ),
        _msg(5, MessageRole.user, content=[TextContent(text=HEARTBEAT)]),
    ]


def terminal_names(agent: Agent) -> set[str]:
    solver = ToolRulesSolver(tool_rules=agent.tool_rules)
    return {t.name for t in agent.tools if solver.is_terminal_tool(t.name)}


TERMINAL = {"send_message"}


def build(
    history: list[Message] | None = None, tools: list[Tool] | None = None, **llm: Any
) -> dict[str, Any]:
    """Request params for the sample agent (overriding llm_config fields) at step 3."""
    from letta_batch.providers.anthropic import build_request_params

    agent = sample_agent(**llm)
    return build_request_params(
        agent,
        sample_history() if history is None else history,
        TOOLS if tools is None else tools,
        terminal_tool_names=TERMINAL,
        step=3,
    )


def tool(params: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in params["tools"] if t["name"] == name)


def blocks(params: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [
        b
        for m in params["messages"]
        if m["role"] == role and isinstance(m["content"], list)
        for b in m["content"]
    ]


def msg(n: int, role: MessageRole, **kw: Any) -> Message:
    return Message(id=f"message-x-{n}", agent_id=AGENT_ID, role=role, **kw)
