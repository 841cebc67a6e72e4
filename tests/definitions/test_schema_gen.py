"""JSON-schema derivation from Python source."""

from __future__ import annotations

from letta_batch.definitions.schema_gen import (
    derive_json_schema,
    normalise_json_schema,
    parse_docstring,
    top_level_functions,
)

SOURCE = '''
from typing import List, Literal, Optional

def plan_trip(agent_state, city: str, days: int = 2, budget: float | None = None,
              modes: Optional[List[Literal["train", "bus"]]] = None, meta: dict = None,
              urgent: bool = False, request_heartbeat: bool = False) -> str:
    """Plan a trip.

    Uses the timetable.

    Args:
        city (str): Destination
            city name.
        days: Number of days.
        budget (float): Budget in EUR.

    Returns:
        str: The plan.
    """
    return city
'''


def test_derive_schema_from_signature_and_docstring() -> None:
    schema = derive_json_schema(top_level_functions(SOURCE)["plan_trip"])
    assert schema["name"] == "plan_trip"
    assert schema["description"] == "Plan a trip. Uses the timetable."
    params = schema["parameters"]
    assert params["required"] == ["city"]
    props = params["properties"]
    assert list(props) == [
        "city",
        "days",
        "budget",
        "modes",
        "meta",
        "urgent",
    ]  # no agent_state / heartbeat
    assert props["city"] == {"type": "string", "description": "Destination city name."}
    assert props["days"] == {"type": "integer", "description": "Number of days."}
    assert props["budget"]["type"] == "number"
    assert props["modes"] == {
        "type": "array",
        "items": {"enum": ["train", "bus"], "type": "string"},
    }
    assert props["meta"] == {"type": "object"}
    assert props["urgent"] == {"type": "boolean"}


def test_docstring_without_sections() -> None:
    assert parse_docstring("Just a line.") == ("Just a line.", {})
    assert parse_docstring(None) == (None, {})


def test_normalise_strips_request_heartbeat() -> None:
    schema = {
        "name": "t",
        "parameters": {
            "type": "object",
            "properties": {"x": {"type": "string"}, "request_heartbeat": {"type": "boolean"}},
            "required": ["x", "request_heartbeat"],
        },
    }
    out = normalise_json_schema(schema, "t", "desc")
    assert out == {
        "name": "t",
        "description": "desc",
        "parameters": {
            "type": "object",
            "properties": {"x": {"type": "string"}},
            "required": ["x"],
        },
    }
