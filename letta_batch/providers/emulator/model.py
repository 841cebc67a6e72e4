"""The deterministic synthetic model behind `succeeded` result rows.

Seed = sha256(custom_id + canonical JSON of params), so the same request always yields the
same content (tool_use ids included). The reply honours `tools`/`tool_choice`
(`auto` -> mostly tool calls so agent loops progress, `any`, `tool`, `none`,
`disable_parallel_tool_use`), fills tool inputs from each tool's `input_schema`, adds a
`thinking` block when thinking is enabled, and reports plausible batch `usage`.
"""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

from .clock import derived_id
from .config import EmulatorConfig
from .schema_input import generate

TINY_MAX_TOKENS = 16  # below this a text reply is cut off with stop_reason max_tokens


def request_seed(custom_id: str, canonical_params: bytes) -> str:
    """Hex seed of one request."""
    return hashlib.sha256(custom_id.encode() + b"\x00" + canonical_params).hexdigest()


def as_dict(value: Any) -> dict[str, Any]:
    """`value` if it is a mapping, else an empty dict (params are untrusted JSON)."""
    return value if isinstance(value, dict) else {}


def custom_tools(params: dict[str, Any]) -> list[dict[str, Any]]:
    """Client tools the model may call (server tools are never called)."""
    return [
        t
        for t in params.get("tools") or []
        if isinstance(t, dict) and t.get("type", "custom") in (None, "custom") and "name" in t
    ]


def last_user_text(params: dict[str, Any]) -> str:
    """A short snippet of the last user turn, to make replies look related."""
    for message in reversed(params.get("messages") or []):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content[:60]
        parts = []
        for block in content if isinstance(content, list) else []:
            if isinstance(block, dict) and block.get("type") == "text":
                parts.append(str(block.get("text", "")))
            elif isinstance(block, dict) and block.get("type") == "tool_result":
                parts.append("(tool result)")
        return " ".join(parts)[:60]
    return ""


class SyntheticModel:
    """Builds one `Message` dict for a servable request."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config

    def message(
        self,
        custom_id: str,
        params: dict[str, Any],
        canonical_params: bytes,
        message_id: str,
        reply: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The `succeeded.message` of one result row."""
        seed = request_seed(custom_id, canonical_params)
        rng = random.Random(int(seed[:16], 16))
        tools = {t["name"]: t for t in custom_tools(params)}
        content: list[dict[str, Any]] = []
        thinking = as_dict(params.get("thinking"))
        if (reply and "thinking" in reply) or thinking.get("type") in ("enabled", "adaptive"):
            musing = (
                str(reply["thinking"])
                if reply and "thinking" in reply
                else self._musing(params, rng)
            )
            if thinking.get("display") == "omitted":
                musing = ""
            content.append({"type": "thinking", "thinking": musing, "signature": _signature(seed)})
        calls = (
            self._scripted_calls(reply, tools, rng)
            if reply
            else self._choose_calls(params, tools, rng)
        )
        text: Any = reply.get("text") if reply else self._synthetic_text(params, calls, rng)
        if text is not None:
            content.append({"type": "text", "text": str(text), "citations": None})
        for i, (name, tool_input) in enumerate(calls):
            content.append(
                {
                    "type": "tool_use",
                    "id": derived_id("toolu_", seed, str(i)),
                    "name": name,
                    "input": tool_input,
                    "caller": {"type": "direct"},
                }
            )
        stop_reason, stop_sequence = self._stop(params, reply, content, calls, rng)
        return {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": params.get("model"),
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": stop_sequence,
            "stop_details": _refusal() if stop_reason == "refusal" else None,
            "container": None,
            "usage": _usage(canonical_params, content, int(params.get("max_tokens") or 1)),
        }

    def _input(self, tool: dict[str, Any] | None, rng: random.Random) -> dict[str, Any]:
        schema = tool.get("input_schema") if tool else None
        value = generate(schema or {}, rng, heartbeat_probability=self.config.heartbeat_probability)
        return value if isinstance(value, dict) else {}

    def _scripted_calls(
        self, reply: dict[str, Any], tools: dict[str, dict[str, Any]], rng: random.Random
    ) -> list[tuple[str, dict[str, Any]]]:
        wanted = list(reply.get("tool_calls") or [])
        if "tool" in reply:
            wanted.insert(0, {"tool": reply["tool"], "input": reply.get("input")})
        return [
            (
                str(w["tool"]),
                dict(w["input"])
                if isinstance(w.get("input"), dict)
                else self._input(tools.get(str(w["tool"])), rng),
            )
            for w in wanted
        ]

    def _choose_calls(
        self, params: dict[str, Any], tools: dict[str, dict[str, Any]], rng: random.Random
    ) -> list[tuple[str, dict[str, Any]]]:
        choice = as_dict(params.get("tool_choice"))
        kind = choice.get("type", "auto" if tools else "none")
        if not tools or kind == "none":
            return []
        if kind == "auto" and rng.random() >= self.config.auto_tool_probability:
            return []
        single = bool(choice.get("disable_parallel_tool_use"))
        count = 1 if single or rng.random() >= self.config.parallel_tool_probability else 2
        names = sorted(tools)
        picked = [
            str(choice.get("name")) if kind == "tool" else rng.choice(names) for _ in range(count)
        ]
        return [(name, self._input(tools.get(name), rng)) for name in picked]

    def _synthetic_text(
        self,
        params: dict[str, Any],
        calls: list[tuple[str, dict[str, Any]]],
        rng: random.Random,
    ) -> str | None:
        choice = as_dict(params.get("tool_choice"))
        if calls and choice.get("type") in ("any", "tool"):
            return None  # the API prefills the turn: no text before forced tool calls
        if calls:
            return "Let me use a tool for that." if rng.random() < 0.5 else None
        snippet = last_user_text(params)
        return f"Emulated reply {rng.getrandbits(32):08x} to: {snippet}".rstrip(": ")

    def _musing(self, params: dict[str, Any], rng: random.Random) -> str:
        return f"Considering the request ({rng.getrandbits(24):06x}): {last_user_text(params)}"

    def _stop(
        self,
        params: dict[str, Any],
        reply: dict[str, Any] | None,
        content: list[dict[str, Any]],
        calls: list[tuple[str, dict[str, Any]]],
        rng: random.Random,
    ) -> tuple[str, str | None]:
        stops = [s for s in params.get("stop_sequences") or [] if isinstance(s, str)]
        if reply and reply.get("stop_reason"):
            reason = str(reply["stop_reason"])
            return reason, (stops[0] if reason == "stop_sequence" and stops else None)
        if calls:
            return "tool_use", None
        max_tokens = int(params.get("max_tokens") or 1)
        texts = [b for b in content if b["type"] == "text"]
        if reply is None and max_tokens < TINY_MAX_TOKENS and texts:
            texts[-1]["text"] = texts[-1]["text"][: max(1, max_tokens * 2)]
            return "max_tokens", None
        if reply is None and stops and rng.random() < 0.5:
            return "stop_sequence", stops[0]
        return "end_turn", None


def _signature(seed: str) -> str:
    return hashlib.sha256(("sig" + seed).encode()).hexdigest() + "=="


def _refusal() -> dict[str, Any]:
    return {"type": "refusal", "category": None, "explanation": None}


def _usage(
    canonical_params: bytes, content: list[dict[str, Any]], max_tokens: int
) -> dict[str, Any]:
    produced = len(json.dumps(content, separators=(",", ":"))) // 4
    return {
        "input_tokens": max(1, len(canonical_params) // 4),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": max(1, min(max_tokens, produced + 3)),
        "server_tool_use": None,
        "service_tier": "batch",
        "inference_geo": "not_available",
    }
