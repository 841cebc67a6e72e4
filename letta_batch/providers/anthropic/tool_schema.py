"""Letta tools → Anthropic ``tools`` entries (Letta's ``convert_tools_to_anthropic_format``).

Per tool, in this order (property order is part of the prompt, so it is fixed):
1. the stored ``json_schema.parameters`` (deep-copied, never mutated);
2. ``request_heartbeat`` (required boolean, Letta's description) appended to every
   non-terminal tool of a non-v1 agent — Letta's batch path never did this (§8.8), so models
   could not ask to continue; a legacy stored ``request_heartbeat`` is removed where it is not
   offered;
3. the inner-thoughts argument ``thinking`` as the first (required) property when
   ``put_inner_thoughts_in_kwargs``;
4. cleanup: ``default`` removed, ``["null", T]`` unions simplified, object type forced;
5. strict mode (models with structured outputs): ``additionalProperties: false`` on every
   object, ``strict: true`` on Letta's allowlisted tools (at most 15).
The last tool gets ``cache_control`` so the tool block is cached with the system prompt.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from letta_batch import json_codec
from letta_batch.schemas.tool import Tool
from letta_batch.stepping.constants import (
    INNER_THOUGHTS_DESCRIPTION,
    INNER_THOUGHTS_KWARG,
    REQUEST_HEARTBEAT_DESCRIPTION,
    REQUEST_HEARTBEAT_PARAM,
)

#: Letta's ``ANTHROPIC_STRICT_MODE_ALLOWLIST``: simple tools known to work in strict mode.
STRICT_MODE_ALLOWLIST = frozenset(
    {
        "Write",
        "Read",
        "Edit",
        "Glob",
        "KillBash",
        "fetch_webpage",
        "EnterPlanMode",
        "ExitPlanMode",
        "Skill",
        "conversation_search",
    }
)
MAX_STRICT_TOOLS = 15
EPHEMERAL = {"type": "ephemeral"}


def supports_structured_outputs(model: str) -> bool:
    """Letta's ``_supports_structured_outputs``: Sonnet 4.5, Opus 4.1, Opus 4.5, Haiku 4.5."""
    m = model.lower()
    return any(k in m for k in ("sonnet-4-5", "opus-4-1", "opus-4-5", "haiku-4-5"))


def clean_schema(schema: Any, strict: bool = False) -> Any:
    """Letta's ``_clean_property_schema``: drop defaults, simplify nullable unions, recurse."""
    if not isinstance(schema, dict):
        return schema
    cleaned: dict[str, Any] = {}
    if "type" in schema:
        t = schema["type"]
        if isinstance(t, list):
            non_null = [x for x in t if x != "null"]
            cleaned["type"] = non_null[0] if len(non_null) == 1 else (non_null or "string")
        else:
            cleaned["type"] = t
    for key, value in schema.items():
        if key in ("type", "default"):
            continue
        if key == "properties" and isinstance(value, dict):
            cleaned[key] = {k: clean_schema(v, strict) for k, v in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            cleaned[key] = clean_schema(value, strict)
        elif key in ("anyOf", "oneOf", "allOf") and isinstance(value, list):
            cleaned[key] = [clean_schema(v, strict) for v in value]
        else:
            cleaned[key] = copy.deepcopy(value)
    if strict and cleaned.get("type") == "object":
        cleaned["additionalProperties"] = False
    return cleaned


def _parameters(tool: Tool) -> dict[str, Any]:
    params = copy.deepcopy(tool.parameters) or {"type": "object", "properties": {}}
    if not isinstance(params.get("properties"), dict):
        params["properties"] = {}
    if not isinstance(params.get("required"), list):
        params["required"] = []
    return params


def _with_heartbeat(params: dict[str, Any], offered: bool) -> None:
    props, required = params["properties"], params["required"]
    if offered:
        props[REQUEST_HEARTBEAT_PARAM] = {
            "type": "boolean",
            "description": REQUEST_HEARTBEAT_DESCRIPTION,
        }
        if REQUEST_HEARTBEAT_PARAM not in required:
            required.append(REQUEST_HEARTBEAT_PARAM)
    else:
        props.pop(REQUEST_HEARTBEAT_PARAM, None)
        if REQUEST_HEARTBEAT_PARAM in required:
            required.remove(REQUEST_HEARTBEAT_PARAM)


def _with_inner_thoughts(params: dict[str, Any]) -> None:
    thoughts = {"type": "string", "description": INNER_THOUGHTS_DESCRIPTION}
    params["properties"] = {
        INNER_THOUGHTS_KWARG: thoughts,
        **{k: v for k, v in params["properties"].items() if k != INNER_THOUGHTS_KWARG},
    }
    if INNER_THOUGHTS_KWARG not in params["required"]:
        params["required"].insert(0, INNER_THOUGHTS_KWARG)


#: Cleaned input schemas as JSON by ``(id(tool), heartbeat, inner_thoughts, strict)``, with the
#: tool kept so its id cannot be reused. Agents loaded together share their Tool objects, so a
#: step cleans each tool's schema once instead of once per agent (deep copies dominated build).
_SCHEMA_CACHE: dict[tuple[int, bool, bool, bool], tuple[Tool, bytes]] = {}
_SCHEMA_CACHE_MAX = 4_096


def _input_schema(tool: Tool, heartbeat: bool, inner_thoughts: bool, strict: bool) -> Any:
    key = (id(tool), heartbeat, inner_thoughts, strict)
    hit = _SCHEMA_CACHE.get(key)
    if hit is not None and hit[0] is tool and hit[0].parameters is tool.parameters:
        return json_codec.loads(hit[1])  # a fresh copy: callers may change it
    params = _parameters(tool)
    _with_heartbeat(params, heartbeat)
    if inner_thoughts:
        _with_inner_thoughts(params)
    schema = clean_schema(params, strict)
    if schema.get("type") != "object":
        schema["type"] = "object"
    if not isinstance(schema.get("properties"), dict):
        schema["properties"] = {}
    if strict:
        schema["additionalProperties"] = False
    if len(_SCHEMA_CACHE) >= _SCHEMA_CACHE_MAX:
        _SCHEMA_CACHE.clear()
    with contextlib.suppress(TypeError, ValueError):  # not JSON (never when stored): uncached
        _SCHEMA_CACHE[key] = (tool, json_codec.dumps_bytes(schema))
    return schema


def anthropic_tools(
    tools: Sequence[Tool],
    *,
    heartbeat_tools: frozenset[str],
    inner_thoughts: bool,
    strict: bool,
) -> list[dict[str, Any]]:
    """The ``tools`` param; `heartbeat_tools` names the tools offered ``request_heartbeat``."""
    out: list[dict[str, Any]] = []
    strict_count = 0
    for tool in tools:
        schema = _input_schema(tool, tool.name in heartbeat_tools, inner_thoughts, strict)
        description = tool.json_schema.get("description") or tool.description or ""
        entry: dict[str, Any] = {
            "name": tool.name,
            "description": description,
            "input_schema": schema,
        }
        if strict and tool.name in STRICT_MODE_ALLOWLIST and strict_count < MAX_STRICT_TOOLS:
            entry["strict"] = True
            strict_count += 1
        out.append(entry)
    if out:
        out[-1]["cache_control"] = dict(EPHEMERAL)
    return out


@dataclass(frozen=True)
class ToolSetJSON:
    """A serialised ``tools`` array and its content address.

    Thousands of agents usually send the same array (same tools, same allowed set), most of
    each request's bytes: ``build`` stores it once per shard and step and each request
    without it (``stepping/stored_request.py``)."""

    id: str
    """SHA-256 of ``json``, hex: the requests of a shard that send equal arrays share a row."""
    json: bytes
    """The array as compact JSON, exactly as it appears in the request."""


#: Serialised ``tools`` arrays by (tool identities, heartbeat set, inner_thoughts, strict),
#: with the tools kept so their ids cannot be reused (as in ``_SCHEMA_CACHE``).
_TOOLS_JSON_CACHE: dict[tuple[Any, ...], tuple[tuple[Tool, ...], ToolSetJSON]] = {}


def anthropic_tool_set(
    tools: Sequence[Tool],
    *,
    heartbeat_tools: frozenset[str],
    inner_thoughts: bool,
    strict: bool,
) -> ToolSetJSON:
    """:func:`anthropic_tools` as already-serialised JSON, built once per distinct set."""
    key = (tuple(map(id, tools)), heartbeat_tools, inner_thoughts, strict)
    hit = _TOOLS_JSON_CACHE.get(key)
    if hit is not None and all(
        a is b and a.json_schema is b.json_schema for a, b in zip(hit[0], tools, strict=True)
    ):
        return hit[1]
    value = anthropic_tools(
        tools, heartbeat_tools=heartbeat_tools, inner_thoughts=inner_thoughts, strict=strict
    )
    data = json_codec.dumps_bytes(value)
    tool_set = ToolSetJSON(id=hashlib.sha256(data).hexdigest(), json=data)
    if len(_TOOLS_JSON_CACHE) >= _SCHEMA_CACHE_MAX:
        _TOOLS_JSON_CACHE.clear()
    _TOOLS_JSON_CACHE[key] = (tuple(tools), tool_set)
    return tool_set
