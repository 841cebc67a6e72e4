"""Run a custom tool (``source_code`` + ``json_schema``) in a separate, constrained interpreter.

Isolation, per call:
- a fresh ``python -I`` process (isolated mode: no PYTHON* variables, no user site, no script
  directory on ``sys.path``) in its own session, so the whole process group can be killed;
- an **empty environment** except a minimal PATH/LANG/HOME/TMPDIR, the tool's configured
  ``execution.env``, the caller's ``env`` and ``LETTA_TOOL_IDEMPOTENCY_KEY`` — never the
  worker's variables (DATABASE_URL, ANTHROPIC_API_KEY, TEMPORAL_*, …);
- a new temporary working directory (removed afterwards); stdin closed;
- rlimits (CPU, address space, open files, file size) applied by the child before any tool code
  runs. They are set in the child rather than in a ``preexec_fn`` because ``preexec_fn`` is not
  safe in a multi-threaded process such as a Temporal worker;
- a wall-clock timeout, after which the process group is SIGKILLed.

Outcomes: the tool's return value or its exception become a :class:`ToolResult` (an exception
is a normal, non-retryable error result with Letta's ``Error executing function …`` text).
Anything that says nothing about the tool's logic — timeout, memory cap, signal, exit without
a result — raises :class:`ToolSandboxError` (retryable), so the activity retries it per the
tool's policy.

The idempotency key (batch item id + tool call id) reaches the tool only as the environment
variable ``LETTA_TOOL_IDEMPOTENCY_KEY``; a tool with external side effects should pass it on
(e.g. as an ``Idempotency-Key`` header) so a retried attempt is not applied twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

import structlog

from letta_batch.schemas.tool import Tool
from letta_batch.tools.results import ToolResult, ToolSandboxError, cap, friendly_error_msg
from letta_batch.tools.validation import REQUEST_HEARTBEAT_PARAM

log = structlog.get_logger(__name__)

CHILD_SCRIPT = Path(__file__).with_name("sandbox_child.py")
IDEMPOTENCY_ENV_VAR = "LETTA_TOOL_IDEMPOTENCY_KEY"
#: The only variables a tool sees besides its own configuration.
BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
#: Open-file cap (the interpreter itself needs a few dozen).
NOFILE_LIMIT = 256
#: Largest file the tool (and the result envelope) may write.
FSIZE_LIMIT_BYTES = 64 * 1024 * 1024
#: Must match sandbox_child.EXIT_MEMORY.
EXIT_MEMORY = 86
_TAIL = 2000
#: Room for Letta's truncation note after ``return_char_limit`` characters.
_NOTE_ROOM = 200

_SIGNAL_REASONS = {
    signal.SIGXCPU: "CPU time limit exceeded",
    signal.SIGXFSZ: "file size limit exceeded",
    signal.SIGKILL: "killed (SIGKILL; likely out of memory or the CPU hard limit)",
}


def child_env(tool: Tool, idempotency_key: str, env: dict[str, str] | None, workdir: str) -> dict:
    """The complete environment of the sandbox process."""
    return {
        **BASE_ENV,
        "HOME": workdir,
        "TMPDIR": workdir,
        **tool.execution.env,
        **(env or {}),
        IDEMPOTENCY_ENV_VAR: idempotency_key,
    }


def _limits(tool: Tool) -> dict[str, int]:
    policy = tool.execution
    return {
        "RLIMIT_CPU": max(1, int(policy.cpu_seconds)),
        "RLIMIT_AS": max(16, int(policy.memory_mb)) * 1024 * 1024,
        "RLIMIT_NOFILE": NOFILE_LIMIT,
        "RLIMIT_FSIZE": FSIZE_LIMIT_BYTES,
    }


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def _feed_and_wait(proc: asyncio.subprocess.Process, payload: bytes) -> int:
    assert proc.stdin is not None
    try:
        proc.stdin.write(payload)
        await proc.stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the child died before reading; its exit status tells why
    finally:
        proc.stdin.close()
    return await proc.wait()


def _tail(path: Path) -> str:
    try:
        data = path.read_bytes()[-_TAIL:]
    except OSError:
        return ""
    return data.decode("utf-8", "replace").strip()


def _crash_reason(returncode: int, tool: Tool, stderr_tail: str) -> str:
    if returncode < 0:
        sig = signal.Signals(-returncode)
        reason = _SIGNAL_REASONS.get(sig, f"killed by signal {sig.name}")
    elif returncode == EXIT_MEMORY:
        reason = f"memory limit exceeded (memory_mb={tool.execution.memory_mb})"
    else:
        reason = f"sandbox exited with code {returncode} without a result"
    return f"{reason}: {stderr_tail}" if stderr_tail else reason


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit + _NOTE_ROOM else cap(text, limit)


def _result_from_envelope(tool: Tool, envelope: dict[str, Any]) -> ToolResult:
    limit = tool.return_char_limit
    status = envelope.get("status")
    stdout = envelope.get("stdout") or None
    stderr = envelope.get("stderr") or None
    if status == "success":
        return ToolResult(
            status="success",
            func_return=envelope.get("func_return"),
            # Already stringified and truncated by the child; cap again only if it lied.
            func_response=_bounded(str(envelope.get("func_response", "None")), limit),
            stdout=stdout,
            stderr=stderr,
        )
    if status == "error":
        message = friendly_error_msg(
            tool.name, str(envelope.get("exc_type")), str(envelope.get("exc_message"))
        )
        return ToolResult.error(
            message, limit=limit, stdout=stdout, stderr=[*(stderr or []), message]
        )
    if status == "crash":
        raise ToolSandboxError(f"memory limit exceeded (memory_mb={tool.execution.memory_mb})")
    raise ToolSandboxError(f"sandbox returned an unknown envelope status {status!r}")


async def run_custom_tool(
    tool: Tool,
    args: dict[str, Any],
    *,
    idempotency_key: str,
    env: dict[str, str] | None = None,
) -> ToolResult:
    """Run ``tool``'s function with ``args`` in the sandbox.

    Returns a success result or, when the tool raised, a non-retryable error result.
    Raises :class:`ToolSandboxError` (``retryable=True``) on timeout, resource-limit kills and
    crashes. ``env`` adds variables for this call (e.g. per-agent secrets) on top of
    ``tool.execution.env``.
    """
    if not tool.source_code:
        return ToolResult.error(
            friendly_error_msg(tool.name, "ValueError", "tool has no source code"),
            limit=tool.return_char_limit,
        )
    properties = tool.parameters.get("properties") or {}
    if REQUEST_HEARTBEAT_PARAM not in properties:
        args = {k: v for k, v in args.items() if k != REQUEST_HEARTBEAT_PARAM}
    request = {
        "source": tool.source_code,
        "name": tool.name,
        "args": args,
        "limits": _limits(tool),
        "return_char_limit": tool.return_char_limit,
    }
    payload = json.dumps(request, ensure_ascii=False).encode()
    timeout = tool.execution.timeout_seconds
    with tempfile.TemporaryDirectory(prefix="letta-tool-") as root:
        rootp = Path(root)
        workdir = rootp / "work"
        workdir.mkdir(mode=0o700)
        result_path, out_path, err_path = (rootp / n for n in ("result", "stdout", "stderr"))
        result_fd = os.open(result_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with out_path.open("wb") as out_f, err_path.open("wb") as err_f:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-I",
                    str(CHILD_SCRIPT),
                    str(result_fd),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=out_f,
                    stderr=err_f,
                    cwd=workdir,
                    env=child_env(tool, idempotency_key, env, str(workdir)),
                    pass_fds=(result_fd,),
                    start_new_session=True,
                )
        finally:
            os.close(result_fd)
        try:
            returncode = await asyncio.wait_for(_feed_and_wait(proc, payload), timeout)
        except TimeoutError:
            _kill_group(proc.pid)
            await proc.wait()
            log.warning("tool_sandbox_timeout", tool=tool.name, timeout=timeout)
            raise ToolSandboxError(f"timed out after {timeout:g}s") from None
        except BaseException:  # cancelled: never leave the tool running
            _kill_group(proc.pid)
            raise
        finally:
            _kill_group(proc.pid)  # reap anything the tool left running in its group
        raw = result_path.read_bytes()
        if not raw:
            reason = _crash_reason(returncode, tool, _tail(err_path))
            log.warning("tool_sandbox_crash", tool=tool.name, returncode=returncode)
            raise ToolSandboxError(reason)
        try:
            envelope = json.loads(raw)
        except ValueError:
            raise ToolSandboxError("sandbox wrote an unreadable result") from None
        return _result_from_envelope(tool, envelope)
