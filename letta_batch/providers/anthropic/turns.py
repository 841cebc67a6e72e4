"""Whole-conversation passes over Anthropic turns (Letta's helpers of ``build_request_data``).

The API wants alternating roles starting with ``user``, one ``tool_result`` per ``tool_use``,
no empty text blocks, and thinking blocks first in an assistant turn. Every function
returns new lists/dicts; the input turns are not shared with the output.
"""

from __future__ import annotations

import json
from typing import Any

Turn = dict[str, Any]

#: Letta's ``DUMMY_FIRST_USER_MESSAGE``.
BOOTUP_MESSAGE = "User initializing bootup sequence."
EPHEMERAL = {"type": "ephemeral"}
_THINKING_TYPES = ("thinking", "redacted_thinking")


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, list):
        return list(content)
    return [{"type": "text", "text": content}]


def is_heartbeat(text: Any) -> bool:
    """Letta's ``is_heartbeat``: a JSON object with ``type == "heartbeat"`` and a reason."""
    if not isinstance(text, str) or "heartbeat" not in text:
        return False
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("type") == "heartbeat" and "reason" in data


def merge_same_role(turns: list[Turn]) -> list[Turn]:
    """Merge consecutive turns of one role (tool results followed by a heartbeat, …)."""
    merged: list[Turn] = []
    for turn in turns:
        if merged and merged[-1]["role"] == turn["role"]:
            prev = merged[-1]
            prev["content"] = _blocks(prev["content"]) + _blocks(turn["content"])
        else:
            merged.append(dict(turn))
    return merged


def drop_heartbeats(turns: list[Turn]) -> list[Turn]:
    """v1 agents: remove heartbeat texts from user turns (and turns left empty)."""
    out: list[Turn] = []
    for turn in turns:
        content = turn["content"]
        if turn["role"] == "user":
            if isinstance(content, str):
                if is_heartbeat(content):
                    continue
            else:
                content = [b for b in content if not is_heartbeat(b.get("text"))]
                if not content:
                    continue
        out.append({**turn, "content": content})
    return out


def merge_heartbeats_into_tool_results(turns: list[Turn]) -> list[Turn]:
    """Fold heartbeats that follow a ``tool_result`` into it (joined with ``", "``).

    With extended thinking nothing but tool results may sit between two assistant actions,
    otherwise the earlier thinking is silently dropped (Letta's comment).
    """
    out: list[Turn] = []
    for turn in turns:
        content = turn["content"]
        if turn["role"] == "user" and isinstance(content, list) and len(content) > 1:
            first = content[0]
            if first.get("type") == "tool_result" and isinstance(first.get("content"), str):
                first = dict(first)
                rest = content[1:]
                while rest and rest[0].get("type") == "text" and is_heartbeat(rest[0].get("text")):
                    first["content"] += ", " + rest[0]["text"]
                    rest = rest[1:]
                content = [first, *rest]
        out.append({**turn, "content": content})
    return out


def dedupe_tool_results(turns: list[Turn]) -> list[Turn]:
    """One ``tool_result`` per ``tool_use_id`` in a user turn (contents joined by newline)."""
    out: list[Turn] = []
    for turn in turns:
        content = turn["content"]
        if turn["role"] == "user" and isinstance(content, list):
            seen: dict[str, dict[str, Any]] = {}
            kept: list[dict[str, Any]] = []
            for block in content:
                tid = block.get("tool_use_id") if block.get("type") == "tool_result" else None
                if tid is None:
                    kept.append(block)
                elif tid in seen:
                    first, extra = seen[tid], block.get("content")
                    if extra:
                        sep = "\n" if first.get("content") else ""
                        first["content"] = f"{first.get('content') or ''}{sep}{extra}"
                else:
                    seen[tid] = dict(block)
                    kept.append(seen[tid])
            content = kept
        out.append({**turn, "content": content})
    return out


def thinking_first(turns: list[Turn]) -> list[Turn]:
    """Move thinking/redacted_thinking blocks to the front of each assistant turn."""
    out: list[Turn] = []
    for turn in turns:
        content = turn["content"]
        if turn["role"] == "assistant" and isinstance(content, list):
            think = [b for b in content if b.get("type") in _THINKING_TYPES]
            other = [b for b in content if b.get("type") not in _THINKING_TYPES]
            content = think + other
        out.append({**turn, "content": content})
    return out


def drop_empty(turns: list[Turn]) -> list[Turn]:
    """Drop blank text blocks, then turns left without content."""
    out: list[Turn] = []
    for turn in turns:
        content = turn["content"]
        if isinstance(content, list):
            content = [
                b for b in content if b.get("type") != "text" or str(b.get("text", "")).strip()
            ]
        if not content or (isinstance(content, str) and not content.strip()):
            continue
        out.append({**turn, "content": content})
    return out


def ensure_user_first(turns: list[Turn]) -> list[Turn]:
    """Prepend Letta's bootup user message when the conversation does not start with user."""
    if turns and turns[0]["role"] == "user":
        return turns
    return [{"role": "user", "content": BOOTUP_MESSAGE}, *turns]


def cache_last_block(turns: list[Turn]) -> list[Turn]:
    """``cache_control`` on the final block of the final turn (incremental conversation cache)."""
    if not turns:
        return turns
    last = turns[-1]
    blocks = [dict(b) for b in _blocks(last["content"])]
    blocks[-1]["cache_control"] = dict(EPHEMERAL)
    return [*turns[:-1], {**last, "content": blocks}]
