"""An agent's history as converted turns, kept with each request for the next step's build.

Converting the history is most of what a request costs once an agent has a real context:
every in-context message is read, validated into a ``Message`` and turned into an Anthropic
turn, ~25 µs per message and step (a 90-message context: 2.3 ms per agent per step). Yet
between two steps of a job the history only grows: the previous request's messages plus the
assistant turn, tool return and heartbeat its answer left (and, by the agent's next job, that
job's input). So ``build`` stores, with each request, the turns its history converted to
(before the whole-conversation passes, which run again every time), and the agent's next
build, in this job or a later one, converts only the messages added since.

A stored value is used only when it describes the same history under the same conversion:
- the ids it covers are still the start of the agent's ``message_ids`` (after the system
  message), checked by digest;
- the model (reasoning replays only to the model that signed it) and whether inner thoughts
  go into the tool arguments are the same.

The third input of the conversion, which past tool calls keep their ``request_heartbeat``
argument, changes with the step's terminal tools; the stored turns keep the argument in every
call and :func:`drop_heartbeat_args` removes it where the current step would have.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from letta_batch.stepping.constants import REQUEST_HEARTBEAT_PARAM

Turn = dict[str, Any]

#: Version of the stored form; any other value is ignored (the history is converted whole).
FORMAT = 1


def ids_digest(ids: Iterable[str]) -> str:
    """A digest of message ids in order (ids never contain a newline)."""
    return hashlib.sha1("\n".join(ids).encode(), usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class ContextTurns:
    """The converted turns of the first ``count`` history messages of an agent."""

    model: str
    """The agent's model when they were converted."""
    inner_thoughts: bool
    """Whether inner thoughts went into the tool arguments."""
    count: int
    """History message ids covered: ``message_ids[1 : 1 + count]``."""
    digest: str
    """:func:`ids_digest` of those ids."""
    called: frozenset[str]
    """Names of the tools their messages called."""
    turns: list[Turn]
    """One turn per converted message, ``request_heartbeat`` kept in every tool call."""

    def covers(self, *, model: str, inner_thoughts: bool, message_ids: Sequence[str]) -> bool:
        """Whether these turns are what converting ``message_ids[1 : 1 + count]`` would give
        now. An agent whose history was cut, reordered or rewritten gets False."""
        return (
            self.model == model
            and self.inner_thoughts == inner_thoughts
            and len(message_ids) > self.count
            and ids_digest(message_ids[1 : 1 + self.count]) == self.digest
        )

    def to_bytes(self) -> bytes | None:
        """The stored form; None when the turns hold what orjson cannot write exactly (the
        history is then converted whole next time)."""
        try:
            return orjson.dumps(
                {
                    "format": FORMAT,
                    "model": self.model,
                    "inner_thoughts": self.inner_thoughts,
                    "count": self.count,
                    "digest": self.digest,
                    "called": sorted(self.called),
                    "turns": self.turns,
                }
            )
        except orjson.JSONEncodeError:
            return None

    @classmethod
    def from_bytes(cls, data: bytes | None) -> ContextTurns | None:
        """The stored form back; None for nothing, another format or anything malformed."""
        if not data:
            return None
        try:
            value = orjson.loads(data)
            if value.get("format") != FORMAT or not all(
                isinstance(turn, dict) and "role" in turn and "content" in turn
                for turn in value["turns"]
            ):
                return None
            return cls(
                model=str(value["model"]),
                inner_thoughts=bool(value["inner_thoughts"]),
                count=int(value["count"]),
                digest=str(value["digest"]),
                called=frozenset(value["called"]),
                turns=list(value["turns"]),
            )
        except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
            return None


def drop_heartbeat_args(turns: list[Turn], heartbeat_tools: frozenset[str]) -> list[Turn]:
    """``turns`` with ``request_heartbeat`` removed from every tool call of a tool not in
    ``heartbeat_tools`` (what the conversion does per message); changed turns are copies."""
    out: list[Turn] = []
    for turn in turns:
        content = turn["content"]
        if turn["role"] == "assistant" and isinstance(content, list):
            changed: list[dict[str, Any]] | None = None
            for i, block in enumerate(content):
                if (
                    block.get("type") == "tool_use"
                    and block.get("name") not in heartbeat_tools
                    and REQUEST_HEARTBEAT_PARAM in block["input"]
                ):
                    args = dict(block["input"])
                    del args[REQUEST_HEARTBEAT_PARAM]
                    if changed is None:
                        changed = list(content)
                    changed[i] = {**block, "input": args}
            if changed is not None:
                turn = {**turn, "content": changed}
        out.append(turn)
    return out
