"""Validate a tool call's arguments against the tool's JSON schema (a practical subset).

Supported: ``type`` (one or a list; ``integer`` accepts whole floats, ``boolean`` is never a
number), ``enum``, ``required``, ``properties``, ``additionalProperties: false``, ``items``,
``anyOf``/``oneOf`` (valid if any branch is). Anything else is not checked. The first problem
found is reported, naming the argument path (``tags[1]``, ``filter.kind``).
"""

from __future__ import annotations

from typing import Any

from letta_batch.schemas.tool import Tool

#: Injected by agent loops at request time; stripped before execution, never an "unknown" arg.
REQUEST_HEARTBEAT_PARAM = "request_heartbeat"


def _is_type(value: Any, type_name: str) -> bool:
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if type_name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name == "array":
        return isinstance(value, list)
    if type_name == "object":
        return isinstance(value, dict)
    if type_name == "null":
        return value is None
    return True  # unknown type keyword: not checked


def _check(value: Any, schema: dict[str, Any], path: str) -> str | None:
    branches = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(branches, list) and branches:
        errors = [_check(value, b, path) for b in branches if isinstance(b, dict)]
        if errors and all(errors):
            return errors[0]
    declared = schema.get("type")
    if declared is not None:
        types = declared if isinstance(declared, list) else [declared]
        if not any(_is_type(value, t) for t in types):
            wanted = " or ".join(str(t) for t in types)
            return (
                f"Argument '{path}' must be of type {wanted} "
                f"(got {type(value).__name__}: {value!r:.80})"
            )
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        return f"Argument '{path}' must be one of {enum} (got {value!r:.80})"
    if isinstance(value, dict) and ("properties" in schema or "required" in schema):
        return _check_object(value, schema, path + ".")
    items = schema.get("items")
    if isinstance(value, list) and isinstance(items, dict):
        for i, item in enumerate(value):
            problem = _check(item, items, f"{path}[{i}]")
            if problem:
                return problem
    return None


def _check_object(args: dict[str, Any], schema: dict[str, Any], prefix: str) -> str | None:
    properties = schema.get("properties") or {}
    for name in schema.get("required") or []:
        if name not in args:
            return f"Missing required argument '{prefix}{name}'"
    if schema.get("additionalProperties") is False:
        for name in args:
            if name not in properties and not (prefix == "" and name == REQUEST_HEARTBEAT_PARAM):
                return f"Unknown argument '{prefix}{name}'"
    for name, value in args.items():
        sub = properties.get(name)
        if isinstance(sub, dict):
            problem = _check(value, sub, f"{prefix}{name}")
            if problem:
                return problem
    return None


def strip_nul(value: Any) -> Any:
    """``value`` with U+0000 removed from every string (keys included).

    PostgreSQL text and jsonb cannot hold it: one such argument would otherwise fail a whole
    call set's transaction on every retry.
    """
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [strip_nul(v) for v in value]
    if isinstance(value, dict):
        return {strip_nul(k): strip_nul(v) for k, v in value.items()}
    return value


def validate_args(parameters: dict[str, Any], args: Any) -> str | None:
    """Check ``args`` against a ``parameters`` object schema; an error message or None."""
    if not isinstance(args, dict):
        return f"Arguments must be a JSON object (got {type(args).__name__})"
    if not parameters:
        return None
    return _check_object(args, parameters, "")


def validate_tool_args(tool: Tool, args: Any) -> str | None:
    """Validate ``args`` against ``tool.json_schema.parameters``.

    Returns a message naming the offending argument (``Missing required argument 'label'``,
    ``Argument 'insert_line' must be of type integer (got str: 'x')``, ``Unknown argument
    'foo'``, …) or None when the arguments are acceptable.
    """
    return validate_args(tool.parameters, args)
