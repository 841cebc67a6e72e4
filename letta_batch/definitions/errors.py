"""Validation problems of a definitions file, reported all at once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError


def show(value: Any, limit: int = 80) -> str:
    """A short ``repr`` of a value for error lines."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def join_path(base: str, loc: Iterable[Any]) -> str:
    """``agents[3]`` + ``("memory_blocks", 0, "limit")`` → ``agents[3].memory_blocks[0].limit``."""
    path = base
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


@dataclass(frozen=True)
class Problem:
    """One problem: where (``agents[3].tool_rules[0].tool_name``) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def problems_from_validation(
    error: ValidationError, base: str, context: str | None = None, drop: Sequence[str] = ()
) -> list[Problem]:
    """Pydantic errors as problems. ``drop`` removes union-tag segments from the location;
    ``context`` (e.g. ``agent 'x'``) is appended so the entry is named even by index."""
    out = []
    for err in error.errors(include_url=False):
        loc = [part for part in err["loc"] if part not in drop]
        message = err["msg"]
        if err["type"] != "missing" and "input" in err:
            message += f" (got {show(err['input'])})"
        if context:
            message += f" [{context}]"
        out.append(Problem(join_path(base, loc), message))
    return out


class DefinitionError(ValueError):
    """The definitions file is invalid; ``problems`` lists every problem found.

    Nothing was written: loading validates everything before the first write.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(self.render())

    @property
    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]

    def render(self) -> str:
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the definitions:"
        return "\n".join([head, *(f"  {line}" for line in self.lines)])
