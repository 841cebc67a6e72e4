"""Reading a definitions file (JSON or YAML)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from letta_batch.definitions.errors import DefinitionError, Problem


def parse_definitions_text(text: str, *, fmt: str = "yaml", source: str = "<text>") -> Any:
    """Parse JSON (``fmt="json"``) or YAML text; syntax errors become a ``DefinitionError``."""
    try:
        if fmt == "json":
            return json.loads(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise DefinitionError(
            [Problem(source, f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")]
        ) from None
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" (line {mark.line + 1}, column {mark.column + 1})"
        problem = getattr(exc, "problem", None) or str(exc)
        raise DefinitionError([Problem(source, f"invalid YAML: {problem}{where}")]) from None


def read_definitions_file(path: str | Path) -> Any:
    """Parse a definitions file: ``.json`` as JSON, anything else as YAML."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError([Problem(str(path), f"cannot read: {exc.strerror}")]) from None
    fmt = "json" if path.suffix.lower() == ".json" else "yaml"
    return parse_definitions_text(text, fmt=fmt, source=str(path))
