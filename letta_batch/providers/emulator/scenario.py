"""Scripted replies for the emulator (`--scenario FILE`, JSON or YAML).

Format (a mapping; a bare list is shorthand for `{"rules": [...]}`)::

    separator: ":"          # splits metadata.user_id into agent_id and step (default ":")
    metadata_key: user_id   # which params.metadata key carries "<agent_id>:<step>"
    rules:                  # first matching rule wins
      - match: {custom_id: "item-42"}            # fnmatch glob on the request's custom_id
        reply: {text: "Hello from the script"}
      - match: {agent_id: "agent-7", step: 2}    # from params.metadata.user_id = "agent-7:2"
        reply: {tool: send_message, input: {message: "hi", request_heartbeat: false}}
      - match: {agent_id: "agent-*"}             # every step of matching agents
        reply: {error: {type: overloaded_error, message: "Overloaded"}}
    default: null           # optional reply for requests no rule matches

`match` keys (all given keys must match): `custom_id`, `user_id` (whole metadata value),
`agent_id` (globs) and `step` (int; compared with the part after the separator).

Replies:

- `{"tool": NAME, "input": {...}}` – one tool_use block (`input` omitted: generated from the
  tool's `input_schema`); `{"tool_calls": [{"tool":…, "input":…}, …]}` for several.
  May be combined with `"text"` (a text block before the tool calls) and `"thinking"`.
- `{"text": "..."}` – text only, stop_reason end_turn.
- `{"error": {"type": "overloaded_error", "message": "..."}}` – an errored row
  (type defaults to api_error).
- `{"expired": true}` / `{"canceled": true}` – that outcome for the row.
- `{"stop_reason": "refusal"}` – optional on any succeeded reply (also `max_tokens`,
  `end_turn`, `stop_sequence`); alone it yields an empty refusal message.

Requests without a matching rule (and no default) fall through to the synthetic model.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MATCH_KEYS = frozenset({"custom_id", "user_id", "agent_id", "step"})
REPLY_KEYS = frozenset(
    {
        "tool",
        "input",
        "tool_calls",
        "text",
        "thinking",
        "error",
        "expired",
        "canceled",
        "stop_reason",
    }
)


@dataclass(frozen=True)
class Rule:
    """One `match` -> `reply` pair."""

    match: dict[str, Any]
    reply: dict[str, Any]


@dataclass
class Scenario:
    """An ordered list of rules plus how to read agent/step out of `params.metadata`."""

    rules: list[Rule] = field(default_factory=list)
    default: dict[str, Any] | None = None
    separator: str = ":"
    metadata_key: str = "user_id"

    @classmethod
    def load(
        cls, source: Scenario | str | Path | dict[str, Any] | list[Any] | None
    ) -> Scenario | None:
        """Accept a Scenario, a path to a JSON/YAML file, or already-parsed data."""
        if source is None or isinstance(source, Scenario):
            return source
        if isinstance(source, (str, Path)):
            text = Path(source).read_text()
            data = json.loads(text) if str(source).endswith(".json") else yaml.safe_load(text)
            return cls.from_data(data)
        return cls.from_data(source)

    @classmethod
    def from_data(cls, data: Any) -> Scenario:
        """Build from parsed JSON/YAML (validates reply shapes eagerly)."""
        if isinstance(data, list):
            data = {"rules": data}
        if not isinstance(data, dict):
            raise ValueError("scenario must be a mapping or a list of rules")
        rules = []
        for raw in data.get("rules") or []:
            if not isinstance(raw, dict) or not isinstance(raw.get("match"), dict):
                raise ValueError(f"scenario rule needs a 'match' mapping: {raw!r}")
            if set(raw["match"]) - MATCH_KEYS:
                raise ValueError(
                    f"unknown scenario match keys {sorted(set(raw['match']) - MATCH_KEYS)}"
                )
            rules.append(Rule(dict(raw["match"]), check_reply(raw.get("reply"))))
        default = data.get("default")
        return cls(
            rules=rules,
            default=check_reply(default) if default is not None else None,
            separator=str(data.get("separator", ":")),
            metadata_key=str(data.get("metadata_key", "user_id")),
        )

    def user_id(self, params: dict[str, Any]) -> str | None:
        """The metadata value the rules match on (None when absent)."""
        metadata = params.get("metadata")
        value = metadata.get(self.metadata_key) if isinstance(metadata, dict) else None
        return value if isinstance(value, str) else None

    def match(self, custom_id: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """The scripted reply for one request, or None (-> synthetic model)."""
        user_id = self.user_id(params)
        agent_id, step = split_user_id(user_id, self.separator)
        for rule in self.rules:
            if _matches(rule.match, custom_id, user_id, agent_id, step):
                return rule.reply
        return self.default


def split_user_id(user_id: str | None, separator: str = ":") -> tuple[str | None, str | None]:
    """ "agent-7:2" -> ("agent-7", "2"); extra parts after the step are ignored."""
    if not user_id:
        return None, None
    parts = user_id.split(separator)
    return parts[0], (parts[1] if len(parts) > 1 else None)


def _glob(pattern: Any, value: str | None) -> bool:
    return value is not None and fnmatch.fnmatchcase(value, str(pattern))


def _matches(
    match: dict[str, Any],
    custom_id: str,
    user_id: str | None,
    agent_id: str | None,
    step: str | None,
) -> bool:
    for key, expected in match.items():
        if key == "custom_id" and not _glob(expected, custom_id):
            return False
        if key == "user_id" and not _glob(expected, user_id):
            return False
        if key == "agent_id" and not _glob(expected, agent_id):
            return False
        if key == "step" and (step is None or str(expected) != step.strip()):
            return False
    return True


def check_reply(reply: Any) -> dict[str, Any]:
    """Validate a reply mapping (raises ValueError with a readable message)."""
    if not isinstance(reply, dict) or not reply:
        raise ValueError(f"scenario reply must be a non-empty mapping: {reply!r}")
    unknown = set(reply) - REPLY_KEYS
    if unknown:
        raise ValueError(f"unknown scenario reply keys {sorted(unknown)}")
    if "error" in reply and not isinstance(reply["error"], dict):
        raise ValueError("scenario reply 'error' must be a mapping {type, message}")
    for call in reply.get("tool_calls") or []:
        if not isinstance(call, dict) or "tool" not in call:
            raise ValueError("each tool_calls entry needs a 'tool' name")
    return dict(reply)


def reply_outcome(reply: dict[str, Any] | None) -> str:
    """ "errored" | "expired" | "canceled" | "succeeded" for a scripted reply."""
    if reply is None:
        return "succeeded"
    if "error" in reply:
        return "errored"
    if reply.get("expired"):
        return "expired"
    if reply.get("canceled"):
        return "canceled"
    return "succeeded"
