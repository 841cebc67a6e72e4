"""Tool inputs generated from JSON Schema validate against that schema (many seeds)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from letta_batch.providers.emulator.schema_input import generate

from .helpers import check_schema

SCHEMAS: list[dict[str, Any]] = [
    {"type": "object", "properties": {}},
    {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
    {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "exclusiveMinimum": 3, "exclusiveMaximum": 6},
            "f": {"type": "number", "minimum": -1.5, "maximum": -1.0},
            "when": {"type": "string", "format": "date-time"},
            "id": {"type": "string", "format": "uuid"},
            "short": {"type": "string", "maxLength": 4},
            "long": {"type": "string", "minLength": 50},
            "opt": {"type": ["null", "string"]},
            "request_heartbeat": {"type": "boolean", "description": "Request a heartbeat"},
        },
        "required": ["n", "f", "when", "id", "short", "long", "opt", "request_heartbeat"],
    },
    {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "minItems": 3,
                "maxItems": 5,
                "items": {
                    "type": "object",
                    "properties": {"k": {"const": "fixed"}, "v": {"type": "integer"}},
                    "required": ["k", "v"],
                },
            },
            "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]},
            "choice": {"oneOf": [{"type": "boolean"}, {"type": "string"}]},
            "merged": {
                "allOf": [
                    {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                    {"properties": {"b": {"type": "integer"}}, "required": ["b"]},
                ]
            },
            "untyped": {},
        },
        "required": ["items", "pair", "choice", "merged", "untyped"],
    },
    {
        "type": "object",
        "definitions": {"node": {"type": "object", "properties": {"name": {"type": "string"}},
                                 "required": ["name"]}},
        "properties": {"root": {"$ref": "#/definitions/node"},
                       "kids": {"type": "array", "items": {"$ref": "#/definitions/node"}}},
        "required": ["root", "kids"],
        "additionalProperties": False,
    },
]  # fmt: skip


@pytest.mark.parametrize("schema", SCHEMAS)
def test_generated_values_validate(schema: dict[str, Any]) -> None:
    for seed in range(200):
        value = generate(schema, random.Random(seed))
        assert isinstance(value, dict)
        check_schema(value, schema)


def test_deterministic_and_heartbeat_bias() -> None:
    schema = SCHEMAS[2]
    assert generate(schema, random.Random(7)) == generate(schema, random.Random(7))
    beats = [generate(schema, random.Random(s))["request_heartbeat"] for s in range(400)]
    assert 120 < sum(beats) < 280  # ~50/50
    always = [
        generate(schema, random.Random(s), heartbeat_probability=1.0)["request_heartbeat"]
        for s in range(50)
    ]
    assert all(always)


def test_optional_heartbeat_is_always_set() -> None:
    schema = {"type": "object", "properties": {"request_heartbeat": {"type": "boolean"}}}
    assert all("request_heartbeat" in generate(schema, random.Random(s)) for s in range(50))
