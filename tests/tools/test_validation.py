"""validate_tool_args: required, types, enums, unknown keys, nesting."""

from __future__ import annotations

import pytest

from letta_batch.schemas import Tool
from letta_batch.tools import builtin_tool, validate_tool_args


def tool_with(parameters: dict) -> Tool:
    return Tool(id="t", name="t", json_schema={"name": "t", "parameters": parameters})


STRICT = {
    "type": "object",
    "properties": {
        "label": {"type": "string"},
        "count": {"type": "integer"},
        "ratio": {"type": "number"},
        "flag": {"type": "boolean"},
        "mode": {"type": "string", "enum": ["any", "all"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "maybe": {"type": ["string", "null"]},
        "nested": {
            "type": "object",
            "properties": {"kind": {"type": "string"}},
            "required": ["kind"],
        },
    },
    "required": ["label"],
    "additionalProperties": False,
}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"label": "x"}, None),
        ({"label": "x", "count": 3, "ratio": 1, "flag": False, "mode": "all"}, None),
        ({"label": "x", "count": 2.0, "maybe": None, "tags": ["a"]}, None),
        ({"label": "x", "request_heartbeat": True}, None),
        ({}, "Missing required argument 'label'"),
        ({"label": 1}, "Argument 'label' must be of type string (got int: 1)"),
        ({"label": "x", "count": True}, "Argument 'count' must be of type integer"),
        ({"label": "x", "count": 1.5}, "Argument 'count' must be of type integer"),
        ({"label": "x", "flag": 1}, "Argument 'flag' must be of type boolean"),
        ({"label": "x", "mode": "some"}, "Argument 'mode' must be one of ['any', 'all']"),
        ({"label": "x", "tags": ["a", 2]}, "Argument 'tags[1]' must be of type string"),
        ({"label": "x", "nested": {}}, "Missing required argument 'nested.kind'"),
        ({"label": "x", "bogus": 1}, "Unknown argument 'bogus'"),
    ],
)
def test_validation_messages_name_the_argument(args: dict, expected: str | None) -> None:
    problem = validate_tool_args(tool_with(STRICT), args)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None and problem.startswith(expected), problem


def test_unknown_keys_allowed_without_additional_properties_false() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    assert validate_tool_args(tool_with(schema), {"a": "x", "b": 1}) is None


def test_non_object_args_and_empty_schema() -> None:
    assert validate_tool_args(tool_with({}), {"anything": 1}) is None
    assert (
        validate_tool_args(tool_with(STRICT), ["x"]) == "Arguments must be a JSON object (got list)"
    )


def test_builtin_schemas_validate() -> None:
    tool = builtin_tool("memory_insert", "org-1")
    assert validate_tool_args(tool, {"label": "human", "new_string": "x", "insert_line": 0}) is None
    assert validate_tool_args(tool, {"label": "human"}) == "Missing required argument 'new_string'"
