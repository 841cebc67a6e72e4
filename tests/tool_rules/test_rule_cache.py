"""Stored rule lists are validated once per distinct list, and distinct lists never share."""

from __future__ import annotations

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
