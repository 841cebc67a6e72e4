"""Validation of definitions: every problem reported with entry, field path and value."""

from __future__ import annotations

from typing import Any

import pytest

from letta_batch.definitions import parse_definitions_text, validate_definitions
from letta_batch.definitions.errors import DefinitionError
from tests.definitions.factories import agent, custom_tool


def problems(data: Any, existing: tuple[str, ...] = ()) -> list[str]:
    return [str(p) for p in validate_definitions(data, existing).problems]


def one_agent(**overrides: Any) -> dict[str, Any]:
    return {"tools": [custom_tool()], "agents": [agent("a", **overrides)]}


def test_valid_file_has_no_problems() -> None:
    result = validate_definitions({"tools": [custom_tool()], "agents": [agent("a"), agent("b", 1)]})
    assert result.problems == []
    assert [a.name for a in result.agents] == ["a", "b"]
    assert result.tools[0].name == "lookup_order"
    assert len(result.tools) == 11  # the custom tool + 10 base tools


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"tools": ["nope"]},
            "agents[0].tools[0]: 'nope' is not a defined, built-in or existing tool [agent 'a']",
        ),
        (
            {"tool_rules": [{"type": "exit_loop", "tool_name": "core_memory_append"}]},
            "agents[0].tool_rules[0].tool_name: 'core_memory_append' is not a tool of agent 'a'",
        ),
        (
            {
                "tool_rules": [
                    {
                        "type": "constrain_child_tools",
                        "tool_name": "send_message",
                        "children": ["x"],
                    }
                ]
            },
            "agents[0].tool_rules[0].children[0]: 'x' is not a tool of agent 'a'",
        ),
        (
            {
                "tool_rules": [
                    {"type": "conditional", "tool_name": "lookup_order", "child_output_mapping": {}}
                ]
            },
            "agents[0].tool_rules[0].child_output_mapping: Value error, child_output_mapping must have at least one entry",
        ),
        (
            {"tool_rules": [{"type": "conditional", "tool_name": "lookup_order"}]},
            "agents[0].tool_rules[0].child_output_mapping: Field required [agent 'a']",
        ),
        (
            {
                "tool_rules": [
                    {
                        "type": "conditional",
                        "tool_name": "lookup_order",
                        "child_output_mapping": {"1": "ghost"},
                    }
                ]
            },
            "agents[0].tool_rules[0].child_output_mapping[0].tool: 'ghost' is not a tool of agent 'a'",
        ),
        (
            {"tool_rules": [{"type": "teleport", "tool_name": "x"}]},
            "agents[0].tool_rules[0]: Input tag 'teleport'",
        ),
        (
            {"model": "openai/gpt-4o"},
            "agents[0].model: 'openai/gpt-4o' is not served by the anthropic provider",
        ),
        (
            {"model": None, "llm_config": {"model": "gpt-4o", "model_endpoint_type": "openai"}},
            "agents[0].llm_config.model_endpoint_type: 'openai' is not supported",
        ),
        ({"model": None}, "agents[0].llm_config: missing: give llm_config or model [agent 'a']"),
        (
            {"llm_config": {"model": "claude-x"}},
            "agents[0].model: give either llm_config or model, not both",
        ),
        (
            {"timezone": "Mars/Olympus"},
            "agents[0].timezone: 'Mars/Olympus' is not an IANA timezone [agent 'a']",
        ),
        (
            {"memory_blocks": [{"label": "x", "value": "1"}, {"label": "x", "value": "2"}]},
            "agents[0].memory_blocks[1].label: duplicate label 'x' (also memory_blocks[0]) [agent 'a']",
        ),
        (
            {"memory_blocks": [{"label": "x", "value": "abcdef", "limit": 3}]},
            "agents[0].memory_blocks[0].value: 6 characters exceed the block limit 3 [agent 'a']",
        ),
        (
            {"memory_blocks": [{"label": "x", "limit": "lots"}]},
            "agents[0].memory_blocks[0].limit: Input should be a valid integer, unable to parse string as an integer (got 'lots') [agent 'a']",
        ),
        (
            {"tools": "lookup_order"},
            "agents[0].tools: Input should be a valid list (got 'lookup_order') [agent 'a']",
        ),
        ({"agent_type": "robot"}, "agents[0].agent_type: Input should be"),
        ({"toolz": []}, "agents[0].toolz: Extra inputs are not permitted"),
        (
            {"message_buffer_autoclear": "maybe"},
            "agents[0].message_buffer_autoclear: Input should be a valid boolean",
        ),
        ({"max_tokens": 0}, "agents[0].max_tokens: Input should be greater than or equal to 1"),
    ],
)
def test_bad_agent(overrides: dict[str, Any], expected: str) -> None:
    found = problems(one_agent(**overrides))
    assert any(line.startswith(expected) for line in found), found


@pytest.mark.parametrize(
    ("tool", "expected"),
    [
        (
            custom_tool(source_code="def lookup_order(:\n  pass"),
            "tools[0].source_code: does not parse: invalid syntax (line 1)",
        ),
        (
            custom_tool(name="lookup_order", source_code="def other(x: str):\n  return x"),
            "tools[0].source_code: defines no top-level function 'lookup_order' (defines: other)",
        ),
        (custom_tool(name="bad name!"), "tools[0].name: 'bad name!' must match"),
        (
            custom_tool(
                name="lookup_order",
                json_schema={"name": "other", "parameters": {"type": "object", "properties": {}}},
            ),
            "tools[0].json_schema.name: 'other' differs from the tool name 'lookup_order'",
        ),
        (
            custom_tool(json_schema={"name": "lookup_order", "parameters": {"type": "array"}}),
            "tools[0].json_schema.parameters.type: must be 'object', got 'array'",
        ),
        (
            custom_tool(
                json_schema={
                    "name": "lookup_order",
                    "parameters": {
                        "type": "object",
                        "properties": {"a": {"type": "string"}},
                        "required": ["b"],
                    },
                }
            ),
            "tools[0].json_schema.parameters.required: 'b' is not in properties",
        ),
        (
            custom_tool(json_schema={"name": "lookup_order"}),
            "tools[0].json_schema.parameters: must be an object",
        ),
        (
            custom_tool(source_code="def lookup_order(x):\n  return x"),
            "tools[0].source_code: cannot derive json_schema: parameter 'x' has no type annotation",
        ),
        (
            custom_tool(source_code="def lookup_order(x: set):\n  return x"),
            "tools[0].source_code: cannot derive json_schema: parameter 'x': unsupported type annotation 'set'",
        ),
        (
            custom_tool(source_code="def lookup_order(*args: str):\n  return 1"),
            "tools[0].source_code: cannot derive json_schema: *args/**kwargs",
        ),
        (
            custom_tool(tool_type="letta_core"),
            "tools[0].tool_type: 'letta_core': only 'custom' tools can be defined",
        ),
        (
            custom_tool(return_char_limit="big"),
            "tools[0].return_char_limit: Input should be a valid integer",
        ),
        (
            custom_tool(execution={"timeout_seconds": "soon"}),
            "tools[0].execution.timeout_seconds: Input should be a valid number",
        ),
        (
            {"name": "lookup_order", "description": "no code"},
            "tools[0].source_code: missing: custom tools need Python source",
        ),
        ({"description": "nameless"}, "tools[0].name: missing"),
        (
            custom_tool(
                name="send_message", source_code="def send_message(message: str):\n  return message"
            ),
            "tools[0].name: 'send_message' is a built-in tool and cannot be redefined",
        ),
        ("just a string", "tools[0]: must be an object, got 'just a string'"),
    ],
)
def test_bad_tool(tool: Any, expected: str) -> None:
    found = problems({"tools": [tool], "agents": []})
    assert any(line.startswith(expected) for line in found), found


def test_all_problems_are_reported_together() -> None:
    data = {
        "tools": [custom_tool(), custom_tool()],  # duplicate
        "agents": [
            agent("ok"),
            agent("x", tools=["nope"], timezone="Nowhere"),
            agent("ok"),  # duplicate name
            "not an agent",
            {"model": "claude-x"},  # no name
        ],
        "extra": 1,
    }
    found = problems(data)
    expected_starts = [
        "extra: unknown top-level key",
        "tools[1].name: duplicate tool name 'lookup_order' (also tools[0])",
        "agents[1].timezone: 'Nowhere'",
        "agents[1].tools[0]: 'nope'",
        "agents[2].name: duplicate agent name 'ok' (also agents[0])",
        "agents[3]: must be an object",
        "agents[4].name: Field required",
    ]
    for start in expected_starts:
        assert any(line.startswith(start) for line in found), (start, found)


def test_tool_referencing_existing_db_tool() -> None:
    data = {"agents": [agent("a", tools=["from_db"], tool_rules=[])]}
    assert any("'from_db' is not a defined" in p for p in problems(data))
    assert problems(data, existing=("from_db",)) == []


def test_invalid_file_tool_is_not_also_unknown() -> None:
    data = {"tools": [custom_tool(return_char_limit=-1)], "agents": [agent("a")]}
    found = problems(data)
    assert len(found) == 1 and found[0].startswith("tools[0].return_char_limit")


def test_model_shorthands_and_overrides() -> None:
    result = validate_definitions(
        {
            "agents": [
                agent(
                    "a",
                    tools=[],
                    tool_rules=[],
                    model="claude-haiku-4-5",
                    max_tokens=1000,
                    temperature=0.5,
                ),
                agent(
                    "b",
                    tools=[],
                    tool_rules=[],
                    model=None,
                    llm_config={
                        "model": "claude-opus-4-1",
                        "model_endpoint_type": "anthropic",
                        "context_window": 200000,
                        "handle": "anthropic/claude-opus-4-1",
                    },
                    enable_reasoner=False,
                ),
            ]
        }
    )
    assert result.problems == []
    a, b = result.agents
    assert (a.llm_config.model, a.llm_config.max_tokens, a.llm_config.temperature) == (
        "claude-haiku-4-5",
        1000,
        0.5,
    )
    assert b.llm_config.model == "claude-opus-4-1" and b.llm_config.enable_reasoner is False


def test_base_tools_and_default_rules() -> None:
    result = validate_definitions(
        {
            "agents": [
                {"name": "v1", "agent_type": "memgpt_agent", "model": "claude-x"},
                {
                    "name": "v2",
                    "model": "claude-x",
                    "tool_rules": [{"type": "continue_loop", "tool_name": "send_message"}],
                },
                {"name": "bare", "model": "claude-x", "include_base_tools": False},
            ]
        }
    )
    assert result.problems == []
    v1, v2, bare = result.agents
    assert "core_memory_append" in v1.tool_names and "memory_replace" not in v1.tool_names
    assert "memory_finish_edits" in v2.tool_names and "core_memory_append" not in v2.tool_names
    rules_v2 = {(r.tool_name, str(r.type)) for r in v2.tool_rules}
    # the agent's own rule for send_message replaces the terminal default
    assert ("send_message", "continue_loop") in rules_v2 and (
        "send_message",
        "exit_loop",
    ) not in rules_v2
    assert ("memory_finish_edits", "exit_loop") in rules_v2
    assert ("conversation_search", "continue_loop") in rules_v2
    assert bare.tool_names == [] and bare.tool_rules == []
    assert "{CORE_MEMORY}" in bare.system  # default system prompt


def test_file_syntax_errors_name_the_line() -> None:
    with pytest.raises(DefinitionError, match=r"invalid YAML: .*line \d+, column"):
        parse_definitions_text("agents:\n  - name: [unclosed\n", source="f.yaml")
    with pytest.raises(DefinitionError, match=r"invalid JSON: .*line 1"):
        parse_definitions_text("{", fmt="json")
    assert problems(["not", "a", "mapping"])[0].startswith("the file must hold an object")
