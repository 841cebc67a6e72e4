"""Cutting the shared ``tools`` array out of stored params and putting it back."""

from __future__ import annotations

import pytest

from letta_batch.stepping.stored_request import StoredRequest, join_tools, split_tools


def test_split_then_join_gives_the_params_back() -> None:
    params = b'{"model":"m","tool_choice":{"type":"auto"},"tools":null,"system":"x"}'
    tools = b'[{"name":"a"}]'
    stored = split_tools(params, b"null", "ts-1", tools)
    assert stored.body == b'{"model":"m","tool_choice":{"type":"auto"},"tools":,"system":"x"}'
    assert stored.tools_at == stored.body.index(b',"system"')
    assert stored.params() == params.replace(b"null", tools)
    assert stored.size == len(stored.params())


def test_a_tools_key_inside_a_string_is_not_taken_for_the_param() -> None:
    # JSON escapes quotes inside strings, so the raw key cannot occur before the real one.
    params = b'{"model":"a,\\"tools\\":null","tool_choice":{},"tools":null,"system":"x"}'
    stored = split_tools(params, b"null", "ts", b"[]")
    assert stored.params() == params.replace(b'"tools":null,"system"', b'"tools":[],"system"')


def test_split_refuses_params_without_the_placeholder() -> None:
    with pytest.raises(ValueError, match="placeholder"):
        split_tools(b'{"model":"m","tools":[1],"system":"x"}', b"null", "ts", b"[]")


def test_whole_params_are_left_as_they_are() -> None:
    assert join_tools(b'{"model":"m"}', None, None) == b'{"model":"m"}'
    assert StoredRequest(body=b"{}").params() == b"{}"
