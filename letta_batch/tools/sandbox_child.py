"""The program the sandbox runs in a fresh interpreter (``python -I sandbox_child.py FD``).

It is a standalone script: in isolated mode it cannot (and must not) import ``letta_batch``,
so the few helpers it needs are copied here (``_truncate`` mirrors
``letta_batch.tools.results.truncation_note``; a test keeps them identical).

Protocol:
- stdin carries one JSON request ``{source, name, args, limits, return_char_limit}``; it is
  read fully, then fd 0 is replaced by /dev/null so the tool sees a closed stdin;
- the resource limits are applied before any tool code runs;
- the result envelope is written as JSON to fd ``FD`` (a private file the parent opened, never
  mixed with what the tool prints). The tool's own stdout/stderr are captured in memory.

Envelope: ``{"status": "success", "func_return", "func_response", "stdout", "stderr"}``,
``{"status": "error", "exc_type", "exc_message", "stdout", "stderr"}`` (the tool raised) or
``{"status": "crash", "reason"}`` (MemoryError: the memory cap was hit).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import io
import json
import os
import resource
import sys
from typing import Any

#: Exit code when even the envelope could not be written for lack of memory.
EXIT_MEMORY = 86


def _truncate(text: str, limit: int) -> str:
    return (
        f"{text[:limit]}... [NOTE: function output was truncated since it exceeded the "
        f"character limit: {len(text)} > {limit}]"
    )


def _stringify(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "None"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _apply_limits(limits: dict[str, int]) -> None:
    for name, value in limits.items():
        which = getattr(resource, name)
        # RLIMIT_CPU: SIGXCPU at the soft limit, SIGKILL one second later.
        hard = value + 1 if name == "RLIMIT_CPU" else value
        resource.setrlimit(which, (value, hard))


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


def _run(request: dict[str, Any]) -> dict[str, Any]:
    limit = int(request["return_char_limit"])
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            namespace: dict[str, Any] = {"__name__": "letta_tool"}
            exec(compile(request["source"], f"<tool {request['name']}>", "exec"), namespace)
            fn = namespace.get(request["name"])
            if not callable(fn):
                raise NameError(f"function {request['name']!r} is not defined by the tool source")
            args = dict(request["args"])
            params = inspect.signature(fn).parameters
            if "agent_state" in params and "agent_state" not in args:
                args["agent_state"] = None  # Letta injects its AgentState; batch has none
            value = fn(**args)
            if inspect.isawaitable(value):
                value = asyncio.run(_await(value))
    except MemoryError:
        return {"status": "crash", "reason": "MemoryError"}
    except BaseException as exc:
        return {
            "status": "error",
            "exc_type": type(exc).__name__,
            "exc_message": str(exc),
            "stdout": _captured(out, limit),
            "stderr": _captured(err, limit),
        }
    value = _jsonable(value)
    text = _stringify(value)
    if len(text) > limit:
        text = _truncate(text, limit)
        value = text  # the raw value is too large to carry; the model sees the same text
    return {
        "status": "success",
        "func_return": value,
        "func_response": text,
        "stdout": _captured(out, limit),
        "stderr": _captured(err, limit),
    }


async def _await(awaitable: Any) -> Any:
    return await awaitable


def _captured(buffer: io.StringIO, limit: int) -> list[str]:
    text = buffer.getvalue()
    if not text:
        return []
    return [text if len(text) <= limit else _truncate(text, limit)]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def main() -> None:
    result_fd = int(sys.argv[1])
    request = json.loads(sys.stdin.buffer.read())
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - replaces the consumed request pipe
    _apply_limits(request["limits"])
    envelope = _run(request)
    _write_all(result_fd, json.dumps(envelope, ensure_ascii=False).encode())
    os.close(result_fd)


if __name__ == "__main__":
    try:
        main()
    except MemoryError:
        os._exit(EXIT_MEMORY)
