"""Stored rule lists are validated once per distinct list, and distinct lists never share."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from letta_batch.repositories.rows import load_tool_rules
from letta_batch.tool_rules.rule_cache import shared_rule_list


def _conditional(mapping: dict) -> list[dict]:
    return [{"type": "conditional", "tool_name": "check", "child_output_mapping": mapping}]


def test_equal_lists_share_the_rule_objects_in_lists_of_their_own() -> None:
    first = shared_rule_list([{"type": "exit_loop", "tool_name": "send_message"}])
    second = shared_rule_list([{"type": "exit_loop", "tool_name": "send_message"}])
    assert first is not second and first[0] is second[0]


def test_keys_and_values_of_another_type_are_another_list() -> None:
    by_text = shared_rule_list(_conditional({"true": "a"}))
    by_bool = shared_rule_list(_conditional({True: "a"}))  # a Python caller's typed key
    assert by_text[0] is not by_bool[0]
    assert list(by_text[0].child_output_mapping) == ["true"]
    assert list(by_bool[0].child_output_mapping) == [True]
    one = shared_rule_list([{"type": "max_count_per_step", "tool_name": "t", "max_count_limit": 1}])
    two = shared_rule_list([{"type": "max_count_per_step", "tool_name": "t", "max_count_limit": 2}])
    assert (one[0].max_count_limit, two[0].max_count_limit) == (1, 2)


def test_agents_loaded_from_rows_share_their_rule_objects() -> None:
    # The solver's caches key on rule-object identity: agents read from the database must
    # share the objects of equal rule lists, or every agent compiles its prompts again.
    stored = [
        {"type": "exit_loop", "tool_name": "send_message"},
        {"type": "run_first", "tool_name": "a"},
    ]
    first, second = load_tool_rules(json.loads(json.dumps(stored))), load_tool_rules(stored)
    assert first is not second and all(a is b for a, b in zip(first, second, strict=True))
    assert load_tool_rules(None) == [] and load_tool_rules([]) == []


def test_a_stored_rule_list_that_is_invalid_still_fails_with_its_error() -> None:
    with pytest.raises(ValidationError, match="tool_name"):
        load_tool_rules([{"type": "exit_loop"}])
    with pytest.raises(ValidationError):
        load_tool_rules("not a list")
