"""Custom tool source checks and JSON-schema derivation from a Python function.

When a tool definition has no ``json_schema`` it is derived from the function the source
defines (the function named like the tool):

* parameters come from the signature; a leading ``self``/``agent_state`` is skipped and
  ``*args``/``**kwargs`` are not allowed;
* annotations map to JSON types: ``str`` string, ``int`` integer, ``float`` number, ``bool``
  boolean, ``list``/``List[X]``/``list[X]`` array (with ``items`` when ``X`` is known),
  ``dict``/``Dict[...]`` object, ``Literal[...]`` an ``enum``, ``Optional[X]``/``X | None``
  as ``X``; any other annotation, or none, is an error (give ``json_schema`` instead);
* a parameter is required when it has no default;
* descriptions come from a Google-style docstring: the text before the first section is the
  tool description, and ``name (type): text`` / ``name: text`` lines of ``Args:`` describe the
  parameters (indented continuation lines are joined).
"""

from __future__ import annotations

import ast
import re
from typing import Any

from letta_batch.definitions.errors import show

TOOL_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
HEARTBEAT_PARAM = "request_heartbeat"
_SKIPPED_FIRST = {"self", "agent_state"}
_SECTIONS = {
    "args",
    "arguments",
    "parameters",
    "returns",
    "return",
    "raises",
    "examples",
    "example",
    "yields",
    "note",
    "notes",
}
_SIMPLE = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "list": "array",
    "List": "array",
    "dict": "object",
    "Dict": "object",
}


class SchemaError(ValueError):
    """A function signature that cannot be turned into a JSON schema."""


def top_level_functions(source: str) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Top-level functions of ``source`` by name. Raises ``SyntaxError`` if it does not parse."""
    tree = ast.parse(source)
    return {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr  # typing.List -> List
    raise SchemaError(f"unsupported type annotation {ast.unparse(node)!r}")


def _strip_optional(node: ast.expr) -> ast.expr:
    # X | None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        parts = [p for p in (node.left, node.right) if not _is_none(p)]
        if len(parts) == 1:
            return parts[0]
    if isinstance(node, ast.Subscript) and _dotted(node.value) in {"Optional", "Union"}:
        args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        parts = [a for a in args if not _is_none(a)]
        if len(parts) == 1:
            return parts[0]
    return node


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def annotation_schema(node: ast.expr) -> dict[str, Any]:
    """JSON schema of one annotation (see the module docstring for the mapping)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return annotation_schema(ast.parse(node.value, mode="eval").body)  # "str" forward ref
    node = _strip_optional(node)
    if isinstance(node, ast.Name | ast.Attribute):
        name = _dotted(node)
        if name in _SIMPLE:
            return {"type": _SIMPLE[name]}
    elif isinstance(node, ast.Subscript):
        head = _dotted(node.value)
        args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if head in {"list", "List"}:
            return {"type": "array", "items": annotation_schema(args[0])}
        if head in {"dict", "Dict"}:
            return {"type": "object"}
        if head == "Literal":
            values = [a.value for a in args if isinstance(a, ast.Constant)]
            if len(values) != len(args) or not values:
                raise SchemaError(f"unsupported Literal {ast.unparse(node)!r}")
            kinds = {type(v) for v in values}
            schema: dict[str, Any] = {"enum": values}
            if len(kinds) == 1 and (kind := next(iter(kinds))) in (str, int, float, bool):
                schema["type"] = {str: "string", int: "integer", float: "number", bool: "boolean"}[
                    kind
                ]
            return schema
    raise SchemaError(f"unsupported type annotation {ast.unparse(node)!r}")


def parse_docstring(doc: str | None) -> tuple[str | None, dict[str, str]]:
    """(description, {param: description}) from a Google-style docstring."""
    if not doc:
        return None, {}
    lines = doc.expandtabs().splitlines()
    summary: list[str] = []
    params: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    arg_indent: int | None = None
    for raw in lines:
        stripped = raw.strip()
        header = stripped[:-1].lower() if stripped.endswith(":") else None
        if header in _SECTIONS:
            section, current, arg_indent = header, None, None
            continue
        if section is None:
            summary.append(stripped)
        elif section in {"args", "arguments", "parameters"} and stripped:
            indent = len(raw) - len(raw.lstrip())
            match = re.match(r"^(\*{0,2}\w+)\s*(\([^)]*\))?\s*:\s*(.*)$", stripped)
            if match and (arg_indent is None or indent <= arg_indent):
                arg_indent = indent
                current = match.group(1)
                params[current] = match.group(3).strip()
            elif current is not None:
                params[current] = f"{params[current]} {stripped}".strip()
    description = " ".join(" ".join(summary).split()) or None
    return description, params


def derive_json_schema(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, Any]:
    """The ``{name, description, parameters}`` schema of ``fn``; raises ``SchemaError``."""
    args = fn.args
    if args.vararg or args.kwarg:
        raise SchemaError("*args/**kwargs cannot be described as tool parameters")
    positional = [*args.posonlyargs, *args.args]
    defaults_from = len(positional) - len(args.defaults)
    entries = [(a, i >= defaults_from) for i, a in enumerate(positional)]
    entries += [(a, d is not None) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)]
    if entries and entries[0][0].arg in _SKIPPED_FIRST:
        entries = entries[1:]
    description, docs = parse_docstring(ast.get_docstring(fn))
    properties: dict[str, Any] = {}
    required: list[str] = []
    for arg, has_default in entries:
        if arg.arg == HEARTBEAT_PARAM:
            continue  # injected at request time
        if arg.annotation is None:
            raise SchemaError(f"parameter {arg.arg!r} has no type annotation")
        try:
            prop = annotation_schema(arg.annotation)
        except SchemaError as exc:
            raise SchemaError(f"parameter {arg.arg!r}: {exc}") from None
        if arg.arg in docs:
            prop["description"] = docs[arg.arg]
        properties[arg.arg] = prop
        if not has_default:
            required.append(arg.arg)
    schema: dict[str, Any] = {"name": fn.name}
    if description:
        schema["description"] = description
    schema["parameters"] = {"type": "object", "properties": properties, "required": required}
    return schema


def check_json_schema(schema: Any, tool_name: str) -> list[tuple[str, str]]:
    """Problems of a given ``json_schema`` as (sub-path, message) pairs; empty when valid."""
    if not isinstance(schema, dict):
        return [("", f"must be an object, got {type(schema).__name__}")]
    problems: list[tuple[str, str]] = []
    name = schema.get("name")
    if name is not None and name != tool_name:
        problems.append(("name", f"{name!r} differs from the tool name {tool_name!r}"))
    if "description" in schema and not isinstance(schema["description"], str | None):
        problems.append(("description", f"must be a string, got {show(schema['description'])}"))
    params = schema.get("parameters")
    if not isinstance(params, dict):
        return [
            *problems,
            (
                "parameters",
                f"must be an object {{type: 'object', properties, required}}, got {show(params)}",
            ),
        ]
    if params.get("type") != "object":
        problems.append(("parameters.type", f"must be 'object', got {params.get('type')!r}"))
    props = params.get("properties", {})
    if not isinstance(props, dict):
        problems.append(("parameters.properties", f"must be an object, got {show(props)}"))
        props = {}
    for key, value in props.items():
        if not isinstance(value, dict):
            problems.append(
                (
                    f"parameters.properties.{key}",
                    f"must be an object (a JSON schema), got {show(value)}",
                )
            )
    required = params.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        problems.append(
            ("parameters.required", f"must be a list of property names, got {show(required)}")
        )
    else:
        for r in required:
            if r not in props and r != HEARTBEAT_PARAM:
                problems.append(("parameters.required", f"{r!r} is not in properties"))
    return problems


def normalise_json_schema(schema: dict[str, Any], tool_name: str, description: str | None) -> dict:
    """A valid schema in canonical shape, without ``request_heartbeat`` (Letta strips it)."""
    params = schema.get("parameters", {})
    props = {k: v for k, v in params.get("properties", {}).items() if k != HEARTBEAT_PARAM}
    required = [r for r in params.get("required", []) if r != HEARTBEAT_PARAM]
    out: dict[str, Any] = {"name": tool_name}
    desc = schema.get("description") or description
    if desc:
        out["description"] = desc
    extra = {k: v for k, v in params.items() if k not in {"type", "properties", "required"}}
    out["parameters"] = {"type": "object", "properties": props, "required": required, **extra}
    return out
