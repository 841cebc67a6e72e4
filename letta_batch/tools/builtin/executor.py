"""Execute built-in tool calls of many agents at once: set-based, ordered, exactly once.

Statements per call set, whatever the number of agents: claim the calls in
``tool_executions`` (1), stored results of already-finished calls (0–1), the attached tools
(1), every needed block, locked (0–1), all changed blocks with a version check (0–1), all new
passages (0–1), the final ``tool_executions`` rows (1), every ``conversation_search`` (0–1)
— plus one query per ``archival_memory_search`` call (each has its own text and filters).

Order: calls run sorted by ``(step, agent_id, item_id, index, call_id)``. A block shared by
several agents is one in-memory object, so each edit sees the previous ones and nothing is
lost; the combined value is written once.

Exactly once: run the function inside the caller's transaction (``async with
session.begin()``). Memory edits, passages and the ``tool_executions`` rows commit together;
a retried call set finds its calls finished and returns the stored results without touching
memory again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch.db.types import utcnow
from letta_batch.repositories.blocks import update_block_values
from letta_batch.schemas.tool import Tool
from letta_batch.tools.builtin import archival, ledger, search, search_batch
from letta_batch.tools.builtin.loading import attached_tools, load_memories
from letta_batch.tools.builtin.memory import BLOCK_TOOLS, MEMORY_TOOLS, AgentMemory
from letta_batch.tools.builtin.schemas import BUILTIN_TOOL_NAMES
from letta_batch.tools.builtin.send_message import send_message
from letta_batch.tools.results import ToolResult
from letta_batch.tools.validation import REQUEST_HEARTBEAT_PARAM, strip_nul, validate_tool_args

CallKey = ledger.CallKey
#: Loop-control arguments that never reach a built-in (Letta pops them before execution).
LOOP_ARGS = (REQUEST_HEARTBEAT_PARAM, "thinking", "inner_thoughts")
_SEARCHES: dict[str, Callable[..., Awaitable[Any]]] = {
    "conversation_search": search.conversation_search,
    "archival_memory_search": search.archival_memory_search,
}


class BuiltinCall(BaseModel):
    """One built-in tool call to execute."""

    item_id: str
    """The batch item (agent × step) the call belongs to."""
    call_id: str
    """The provider's tool-call id (``toolu_…``)."""
    agent_id: str
    tool_name: str
    args: dict[str, Any] = Field(default_factory=dict)
    agent_timezone: str | None = None
    """Date bounds and timestamps of searches use it (UTC when unset or unknown)."""
    step: int = 0
    index: int = 0
    """Position of the call in the model's response (orders several calls of one item)."""

    @property
    def key(self) -> CallKey:
        return (self.item_id, self.call_id)


class MemoryWriteConflict(RuntimeError):
    """A block changed under the executor (its version moved on). Retryable: the caller's
    transaction must be rolled back and the call set run again."""

    retryable = True


@dataclass
class BuiltinExecution:
    """Results of :func:`execute_builtin_calls`."""

    results: dict[CallKey, ToolResult] = field(default_factory=dict)
    """Every requested call's result, by ``(item_id, call_id)``."""
    memory_changed_agents: set[str] = field(default_factory=set)
    """Agents whose core memory (or archival memory) changed: recompile their system prompt.
    Includes agents of this call set sharing a block another agent edited, and agents of
    replayed calls that had changed memory."""
    replayed: set[CallKey] = field(default_factory=set)
    """Calls already finished earlier; their stored result was returned, nothing re-run."""


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _clean(args: dict[str, Any]) -> dict[str, Any]:
    """Arguments as the tool receives them: loop-control keys dropped, NUL characters removed."""
    return {k: strip_nul(v) for k, v in args.items() if k not in LOOP_ARGS}


def _precheck(call: BuiltinCall, tool: Tool | None, args: dict[str, Any]) -> ToolResult | None:
    if call.tool_name not in BUILTIN_TOOL_NAMES:
        return ToolResult.error(f"Tool not found: {call.tool_name}")
    if tool is None:
        return ToolResult.error(
            f"Tool not found: {call.tool_name} is not attached to agent {call.agent_id}"
        )
    problem = validate_tool_args(tool, args)
    if problem:
        return ToolResult.error(
            f"Invalid arguments for tool {call.tool_name}: {problem}", limit=tool.return_char_limit
        )
    return None


def _run_memory_tool(call: BuiltinCall, memory: AgentMemory, args: dict, limit: int) -> ToolResult:
    memory.touched = set()
    try:
        value = MEMORY_TOOLS[call.tool_name](memory, **args)
    except Exception as exc:  # the tool's failure is the model's to see, as in Letta
        return ToolResult.from_exception(call.tool_name, exc, limit=limit)
    result = ToolResult.ok(value, limit=limit)
    result.changed_block_ids = sorted(memory.touched)
    result.memory_changed = bool(memory.touched)
    return result


async def _execute(
    session: AsyncSession, org_id: str, calls: list[BuiltinCall]
) -> tuple[dict[CallKey, ToolResult], set[str]]:
    tools = await attached_tools(
        session, org_id, {c.agent_id for c in calls}, {c.tool_name for c in calls}
    )
    results: dict[CallKey, ToolResult] = {}
    runnable: list[tuple[BuiltinCall, Tool, dict[str, Any]]] = []
    for call in calls:
        tool = tools.get((call.agent_id, call.tool_name))
        args = _clean(call.args)
        failed = _precheck(call, tool, args)
        if failed is not None:
            results[call.key] = failed
        else:
            assert tool is not None
            runnable.append((call, tool, args))
    memories, blocks = await load_memories(
        session, org_id, [c.agent_id for c, _, _ in runnable if c.tool_name in BLOCK_TOOLS]
    )
    passages: list[dict[str, Any]] = []
    searches: list[tuple[BuiltinCall, Tool, dict[str, Any]]] = []
    now = utcnow()
    for call, tool, args in runnable:
        limit, name = tool.return_char_limit, call.tool_name
        if name in MEMORY_TOOLS:
            memory = memories.get(call.agent_id) or AgentMemory([])
            results[call.key] = _run_memory_tool(call, memory, args, limit)
        elif name == "send_message":
            try:
                results[call.key] = ToolResult.ok(send_message(**args), limit=limit)
            except TypeError as exc:
                results[call.key] = ToolResult.from_exception(name, exc, limit=limit)
        elif name == "archival_memory_insert":
            try:
                passages.append(
                    archival.plan_passage(
                        org_id=org_id,
                        agent_id=call.agent_id,
                        item_id=call.item_id,
                        call_id=call.call_id,
                        now=now,
                        **args,
                    )
                )
            except TypeError as exc:
                results[call.key] = ToolResult.from_exception(name, exc, limit=limit)
            else:
                results[call.key] = ToolResult.ok(None, limit=limit)
                results[call.key].memory_changed = True  # Letta force-rebuilds the prompt
        else:
            searches.append((call, tool, args))

    changed = {b.id: (b.value, b.version) for b in blocks.values() if b.changed}
    outcome = await update_block_values(session, org_id, changed)
    if not outcome.ok:
        raise MemoryWriteConflict(f"blocks changed concurrently: {sorted(outcome.conflicts)}")
    await archival.insert_passages(session, passages)

    # All conversation searches of the call set run as one statement (see search_batch).
    conversations = [s for s in searches if s[0].tool_name == "conversation_search"]
    found = await search_batch.conversation_search_many(
        session,
        org_id,
        [
            search_batch.SearchCall(c.agent_id, _zone(c.agent_timezone), a)
            for c, _, a in conversations
        ],
    )
    for (call, tool, _args), value in zip(conversations, found, strict=True):
        if isinstance(value, BaseException):
            results[call.key] = ToolResult.from_exception(
                call.tool_name, value, limit=tool.return_char_limit
            )
        else:
            results[call.key] = ToolResult.ok(value, limit=tool.return_char_limit)
    for call, tool, args in searches:
        if call.tool_name == "conversation_search":
            continue
        fn = _SEARCHES[call.tool_name]
        try:
            value = await fn(session, org_id, call.agent_id, _zone(call.agent_timezone), **args)
        except (ValueError, TypeError, KeyError) as exc:  # raised before any SQL is sent
            results[call.key] = ToolResult.from_exception(
                call.tool_name, exc, limit=tool.return_char_limit
            )
        else:
            results[call.key] = ToolResult.ok(value, limit=tool.return_char_limit)

    changed_agents = {c.agent_id for c in calls if results[c.key].memory_changed}
    changed_agents |= {
        agent_id
        for agent_id, memory in memories.items()
        if any(block.id in changed for block in memory.blocks)
    }
    return results, changed_agents


async def execute_builtin_calls(
    session: AsyncSession,
    org_id: str,
    calls: Sequence[BuiltinCall],
    *,
    claim_first: bool = True,
) -> BuiltinExecution:
    """Execute built-in tool calls in bulk, exactly once, inside the caller's transaction.

    Unknown tools, tools not attached to the agent and arguments failing the tool's schema
    give a failed result for that call only. Raises :class:`MemoryWriteConflict` if a block
    changed concurrently (roll back and retry); database errors propagate likewise.

    ``claim_first``: a concurrent attempt at the same calls waits for this transaction, then
    returns the stored results. Without it (a caller whose transaction fails anyway when
    another attempt commits first), calls without a row get their final row inserted once
    they ran, and the loser of a race fails on its unique key (``ledger``'s docstring).
    """
    unique: dict[CallKey, BuiltinCall] = {}
    for call in calls:
        unique.setdefault(call.key, call)
    ordered = sorted(
        unique.values(), key=lambda c: (c.step, c.agent_id, c.item_id, c.index, c.call_id)
    )
    if claim_first:
        to_claim, new = ordered, []
    else:
        known = await ledger.load_known(session, org_id, unique)
        to_claim = [c for c in ordered if c.key in known]
        new = [c for c in ordered if c.key not in known]
    claimed = await ledger.claim(
        session, org_id, [(c.key, c.agent_id, c.tool_name, _clean(c.args)) for c in to_claim]
    )
    stored = await ledger.load_finished(
        session, org_id, {c.key for c in to_claim if c.key not in claimed}
    )
    execution = BuiltinExecution(replayed=set(stored))
    execution.results.update(stored)
    execution.memory_changed_agents = {
        unique[key].agent_id for key, result in stored.items() if result.memory_changed
    }
    new_keys = {c.key for c in new}
    todo = [c for c in ordered if c.key in claimed or c.key in new_keys]
    if todo:
        fresh, changed_agents = await _execute(session, org_id, todo)
        await ledger.finish(session, org_id, {k: r for k, r in fresh.items() if k in claimed})
        await ledger.record(
            session,
            org_id,
            [(c.key, c.agent_id, c.tool_name, _clean(c.args), fresh[c.key]) for c in new],
        )
        execution.results.update(fresh)
        execution.memory_changed_agents |= changed_agents
    missing = set(unique) - set(execution.results)
    if missing:  # finished rows without a stored result: nothing sane to return
        raise RuntimeError(f"finished tool executions without a usable result: {sorted(missing)}")
    return execution
