"""``ConditionalToolRule``: the next tool depends on the previous tool's output.

Lossless JSON: Letta stores ``child_output_mapping`` as a JSON object, so every key comes
back as a string (``True`` → ``"true"``; spec §8.17). We serialise it as an ordered list of
``{"key": <bool|int|float|str>, "tool": <name>}`` entries, which keeps key types and order
(order matters: the first matching key wins). On input we accept that list, ``(key, tool)``
pairs, or Letta's mapping; mapping keys are kept as given (typed from Python, ``str`` when
the mapping came from JSON).
"""

from __future__ import annotations

import json
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import Field, field_serializer, field_validator

from letta_batch.tool_rules import prompts
from letta_batch.tool_rules.base import BaseToolRule, ToolRuleType, last_tool

MappingKey = bool | int | float | str
"""Key types allowed in ``ConditionalToolRule.child_output_mapping``."""

NO_RESPONSE_ERROR = (
    "Conditional tool rule requires an LLM response to determine which child tool to use"
)
"""Letta's ValueError text when the conditional tool's output is missing."""


def _entries(value: Any) -> list[tuple[Any, Any]]:
    if isinstance(value, Mapping):
        return list(value.items())
    if not isinstance(value, list | tuple):
        raise ValueError(
            "child_output_mapping must be a mapping or a list of {key, tool} entries, "
            f"got {type(value).__name__}: {value!r}"
        )
    out: list[tuple[Any, Any]] = []
    for i, entry in enumerate(value):
        if isinstance(entry, Mapping) and set(entry) == {"key", "tool"}:
            out.append((entry["key"], entry["tool"]))
        elif isinstance(entry, list | tuple) and len(entry) == 2:
            out.append((entry[0], entry[1]))
        else:
            raise ValueError(
                f"child_output_mapping[{i}]={entry!r} must be {{'key': ..., 'tool': ...}}"
            )
    return out


def output_text(output: Any) -> str:
    """The tool output as text: strings as-is, anything else through ``str()`` (as Letta)."""
    return output if isinstance(output, str) else str(output)


def matches_key(output: str, key: MappingKey) -> bool:
    """Letta's ``_matches_key``; bool is checked before int because ``True == 1``."""
    if isinstance(key, bool):
        return output.lower() == ("true" if key else "false")
    try:
        if isinstance(key, int):
            return int(output) == key
        if isinstance(key, float):
            return float(output) == key
    except (ValueError, OverflowError):
        return False  # conversion failure = no match
    return output == str(key)


class ConditionalToolRule(BaseToolRule):
    """``conditional``: ``child_output_mapping`` routes on the tool's ``message`` output."""

    type: Literal[ToolRuleType.conditional] = ToolRuleType.conditional
    default_child: str | None = Field(default=None, description="Tool to use when nothing matches.")
    child_output_mapping: dict[MappingKey, str] = Field(
        description="Output value → next tool; first matching key wins. Non-empty."
    )
    require_output_mapping: bool = Field(
        default=False, description="Strict: no match (or unparsable output) allows no tool."
    )

    @field_validator("child_output_mapping", mode="before")
    @classmethod
    def _coerce_mapping(cls, value: Any) -> dict[MappingKey, str]:
        mapping: dict[MappingKey, str] = {}
        for key, tool in _entries(value):
            if not isinstance(key, bool | int | float | str):
                raise ValueError(
                    f"child_output_mapping key {key!r} ({type(key).__name__}) "
                    "must be bool, int, float or str"
                )
            if isinstance(key, float) and not math.isfinite(key):
                raise ValueError(f"child_output_mapping key {key!r} must be a finite float")
            if not isinstance(tool, str):
                raise ValueError(f"child_output_mapping[{key!r}]={tool!r} must be a tool name")
            if key in mapping:
                # Python treats True == 1 == 1.0 (and False == 0 == 0.0) as one dict key.
                earlier = next(k for k in mapping if k == key)
                raise ValueError(
                    f"child_output_mapping key {key!r} duplicates earlier key {earlier!r}"
                )
            mapping[key] = tool
        if not mapping:
            raise ValueError("child_output_mapping must have at least one entry")
        return mapping

    @field_serializer("child_output_mapping")
    def _dump_mapping(self, mapping: dict[MappingKey, str]) -> list[dict[str, Any]]:
        return [{"key": key, "tool": tool} for key, tool in mapping.items()]

    def _extra_identity(self) -> tuple[Hashable, ...]:
        typed = tuple((type(k).__name__, k, v) for k, v in self.child_output_mapping.items())
        return (self.default_child, typed, self.require_output_mapping)

    def _fallback(self, available: set[str]) -> set[str]:
        if self.require_output_mapping:
            return set()
        return {self.default_child} if self.default_child else available

    def get_valid_tools(
        self,
        tool_call_history: Sequence[str],
        available_tools: Iterable[str],
        last_function_response: str | None,
    ) -> set[str]:
        available = set(available_tools)
        if last_tool(tool_call_history) != self.tool_name:
            return available
        if not last_function_response:
            raise ValueError(NO_RESPONSE_ERROR)
        try:
            parsed = json.loads(last_function_response)
        except ValueError:
            return self._fallback(available)
        if not isinstance(parsed, dict):
            # Letta would crash on ``.get``; treat it like unparsable output instead.
            return self._fallback(available)
        output = output_text(parsed.get("message", ""))
        for key, tool in self.child_output_mapping.items():
            if matches_key(output, key):
                return {tool}
        return self._fallback(available)

    def render_prompt(self) -> str | None:
        return prompts.conditional_prompt(self.tool_name)

    @property
    def requires_force_tool_call(self) -> bool:
        return True
