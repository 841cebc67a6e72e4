"""Checks of one custom tool definition: name, type, source code, JSON schema."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from letta_batch.definitions.errors import Problem, show
from letta_batch.definitions.models import ToolDefinition
from letta_batch.definitions.schema_gen import (
    TOOL_NAME_RE,
    SchemaError,
    check_json_schema,
    derive_json_schema,
    normalise_json_schema,
    top_level_functions,
)
from letta_batch.definitions.specs import ToolSpec
from letta_batch.schemas import ToolType


def resolve_tool_name(entry: Mapping[str, Any]) -> Any:
    """``name``, else ``json_schema.name``, else the source's only top-level function."""
    if entry.get("name") is not None:
        return entry["name"]
    schema = entry.get("json_schema")
    if isinstance(schema, Mapping) and isinstance(schema.get("name"), str):
        return schema["name"]
    source = entry.get("source_code")
    if isinstance(source, str):
        try:
            functions = list(top_level_functions(source))
        except (SyntaxError, ValueError):
            return None
        if len(functions) == 1:
            return functions[0]
    return None


def tool_spec_problems(
    definition: ToolDefinition, base: str
) -> tuple[ToolSpec | None, list[Problem]]:
    """The spec of a schema-valid definition, or None and the problems found."""
    problems: list[Problem] = []
    name = resolve_tool_name(definition.model_dump())
    where = f"tool {name!r}" if name is not None else "unnamed tool"
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    if definition.source_code:
        try:
            functions = top_level_functions(definition.source_code)
        except SyntaxError as exc:
            problems.append(
                Problem(
                    f"{base}.source_code",
                    f"does not parse: {exc.msg}"
                    + (f" (line {exc.lineno})" if exc.lineno is not None else "")
                    + f" [{where}]",
                )
            )
            return None, problems
        except ValueError as exc:  # e.g. NUL bytes
            problems.append(Problem(f"{base}.source_code", f"does not parse: {exc} [{where}]"))
            return None, problems
    if name is None:
        return None, [
            Problem(
                f"{base}.name",
                "missing: give name, json_schema.name, or source defining exactly one function",
            )
        ]
    if not isinstance(name, str) or not TOOL_NAME_RE.match(name):
        problems.append(Problem(f"{base}.name", f"{show(name)} must match ^[a-zA-Z0-9_-]{{1,64}}$"))
    if definition.tool_type != ToolType.custom:
        problems.append(
            Problem(
                f"{base}.tool_type",
                f"{str(definition.tool_type)!r}: only 'custom' tools can be defined; "
                f"base tools are built in [{where}]",
            )
        )
    if definition.source_type != "python":
        problems.append(
            Problem(
                f"{base}.source_type",
                f"{definition.source_type!r}: only 'python' is supported [{where}]",
            )
        )
    if not definition.source_code:
        problems.append(
            Problem(f"{base}.source_code", f"missing: custom tools need Python source [{where}]")
        )
        return None, problems
    fn = functions.get(name)
    if fn is None:
        defined = ", ".join(sorted(functions)) or "none"
        problems.append(
            Problem(
                f"{base}.source_code",
                f"defines no top-level function {name!r} (defines: {defined}) [{where}]",
            )
        )
        return None, problems
    if definition.json_schema is not None:
        found = check_json_schema(definition.json_schema, name)
        problems.extend(
            Problem(f"{base}.json_schema{'.' + sub if sub else ''}", f"{msg} [{where}]")
            for sub, msg in found
        )
        if found:
            return None, problems
        schema = definition.json_schema
    else:
        try:
            schema = derive_json_schema(fn)
        except SchemaError as exc:
            problems.append(
                Problem(
                    f"{base}.source_code",
                    f"cannot derive json_schema: {exc} (give json_schema) [{where}]",
                )
            )
            return None, problems
    if problems:
        return None, problems
    schema = normalise_json_schema(schema, name, definition.description)
    spec = ToolSpec(
        name=name,
        json_schema=schema,
        tool_type=ToolType.custom,
        description=definition.description or schema.get("description"),
        source_code=definition.source_code,
        return_char_limit=definition.return_char_limit,
        tags=list(definition.tags),
        default_requires_approval=definition.default_requires_approval,
        execution=definition.execution,
    )
    return spec, []
