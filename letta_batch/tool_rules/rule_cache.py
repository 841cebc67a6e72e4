"""Validate stored tool-rule lists once per distinct list, not once per agent.

Every batch item carries its agent's rules in the step state, and thousands of agents usually
share one list: validating the discriminated rule union per agent was a visible share of
``build``, ``decide`` and ``persist`` for 10,000 agents. Rules are frozen, so equal lists can
share the validated rule objects; each caller still gets its own list.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from letta_batch.tool_rules.rules import ToolRule

_RULE_LIST: TypeAdapter[list[ToolRule]] = TypeAdapter(list[ToolRule])
#: Validated rule lists by their orjson encoding, which tells ``True`` from ``"true"`` and
#: ``1`` from ``"1"`` as values; a list with non-string keys (conditional rules may map
#: typed keys, where JSON would merge ``True`` and ``"true"``) makes orjson refuse, and is
#: keyed by ``repr`` instead (a ``str``, never equal to a ``bytes`` key). orjson is several
#: times faster than ``repr`` here, once per item in three phases.
_VALIDATED: dict[str | bytes, list[ToolRule]] = {}
_VALIDATED_MAX = 1_024


def shared_rule_list(value: Any) -> Any:
    """``value`` validated as ``list[ToolRule]`` when it is a list of rule dicts (from a
    cache); anything else is returned unchanged for the model's own validation."""
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        return value
    key: str | bytes
    try:
        key = orjson.dumps(value)
    except TypeError:
        key = repr(value)
    cached = _VALIDATED.get(key)
    if cached is None:
        try:
            cached = _RULE_LIST.validate_python(value)
        except ValidationError:
            return value  # the model's own validation reports it, with the usual location
        if len(_VALIDATED) >= _VALIDATED_MAX:
            _VALIDATED.clear()
        _VALIDATED[key] = cached
    return list(cached)
