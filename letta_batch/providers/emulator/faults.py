"""Fault injection rules (`--faults SPEC`, `POST /_admin/faults`).

Compact form: comma-separated rules, fields separated by `:`::

    ENDPOINT:KIND[:key=value]...      e.g.
    create:429:retry-after-ms=50:times=1,retrieve:500:times=2,results:errored_fraction=0.1

ENDPOINT is one of create, retrieve, list, cancel, delete, results or `*` (any API endpoint).
KIND (a status code or a name; `name=value` sets the kind and its main parameter at once):

- `429`, `500`, `529`, any HTTP status – error envelope with that status. Params:
  `retry-after` (seconds), `retry-after-ms`, `should-retry` (true/false -> `x-should-retry`),
  `message`, `type` (envelope error type; default from the status).
- `lost` – the request is fully processed (e.g. the batch IS created), then the response is
  lost: `mode=500` (default; 500 api_error) or `mode=drop` (connection closed, no response).
  The SDK retries, so a create produces a second batch, exactly like the live API.
- `hang` – sleep `seconds` (default 30) before handling, to trigger client timeouts.
- `slow` (results) – sleep `delay` seconds (default 0.1) between chunks of `rows` rows (default 1).
- `cut` (results) – close the connection after `after` rows (default half), in the middle of
  the next line, so the SDK iterator raises.
- `errored_fraction=F` / `expired_fraction=F` – a deterministic (per custom_id) fraction of the
  rows of each *newly created* batch becomes errored (`type`, default api_error; `message`)
  or expired. These rules default to unlimited `times` (every new batch).

Every rule takes `times=N` (how many times it fires; default 1, `times=0` = unlimited).
JSON form: a list of objects (or `{"rules": [...]}`) with `endpoint`, `kind`, `times`, and the
same params as keys, e.g. `{"endpoint": "create", "kind": "429", "retry-after-ms": 50}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .clock import stable_fraction

ENDPOINTS = frozenset({"create", "retrieve", "list", "cancel", "delete", "results", "*"})
PRE_KINDS = frozenset({"status", "hang"})
POST_KINDS = frozenset({"lost"})
STREAM_KINDS = frozenset({"slow", "cut"})
OUTCOME_KINDS = frozenset({"errored_fraction", "expired_fraction"})
ALL_KINDS = PRE_KINDS | POST_KINDS | STREAM_KINDS | OUTCOME_KINDS


@dataclass
class FaultRule:
    """One injectable fault."""

    endpoint: str
    kind: str
    status: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    times: int | None = 1
    """Remaining firings; None = unlimited."""
    fired: int = 0

    def param(self, name: str, default: Any = None) -> Any:
        """A parameter, accepting `retry_after` and `retry-after` spellings."""
        return self.params.get(name, self.params.get(name.replace("-", "_"), default))

    def to_json(self) -> dict[str, Any]:
        """Admin-endpoint view."""
        return {
            "endpoint": self.endpoint,
            "kind": str(self.status) if self.kind == "status" else self.kind,
            "params": self.params,
            "times_remaining": self.times,
            "fired": self.fired,
        }


def _coerce(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(value.lower(), value)


def make_rule(endpoint: str, kind: Any, params: dict[str, Any]) -> FaultRule:
    """Validate and build one rule."""
    endpoint = endpoint.strip().lower() or "*"
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown fault endpoint {endpoint!r} (use one of {sorted(ENDPOINTS)})")
    params = {k: _coerce(v) for k, v in params.items()}
    times = params.pop("times", None)
    status: int | None = None
    kind_s = str(kind).strip().lower()
    if kind_s.isdigit():
        status, kind_s = int(kind_s), "status"
    if kind_s not in ALL_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}")
    if times is None:
        times = 0 if kind_s in OUTCOME_KINDS else 1
    return FaultRule(endpoint, kind_s, status, params, None if int(times) == 0 else int(times))


def parse_faults(spec: str | list[Any] | dict[str, Any] | None) -> list[FaultRule]:
    """Parse the compact string form or the JSON form (string or parsed)."""
    if spec is None or spec == "":
        return []
    if isinstance(spec, str) and spec.strip()[:1] in ("[", "{"):
        spec = json.loads(spec)
    if isinstance(spec, dict):
        spec = spec.get("rules", [spec]) if "endpoint" not in spec else [spec]
    if isinstance(spec, list):
        rules = []
        for raw in spec:
            raw = dict(raw)
            endpoint = str(raw.pop("endpoint", "*"))
            kind = raw.pop("kind", raw.pop("status", None))
            rules.append(make_rule(endpoint, kind, raw))
        return rules
    rules = []
    for chunk in str(spec).split(","):
        fields = [f.strip() for f in chunk.split(":") if f.strip()]
        if len(fields) < 2:
            raise ValueError(f"fault rule needs ENDPOINT:KIND, got {chunk!r}")
        params = dict(f.split("=", 1) for f in fields[2:] if "=" in f)
        kind = fields[1]
        if "=" in kind:
            kind, params[kind.split("=", 1)[0]] = kind.split("=", 1)
        rules.append(make_rule(fields[0], kind, params))
    return rules


@dataclass(frozen=True)
class OutcomeFault:
    """Fraction faults frozen into one batch at creation time."""

    errored_fraction: float = 0.0
    expired_fraction: float = 0.0
    error_type: str = "api_error"
    error_message: str = "Internal server error"

    def outcome(self, custom_id: str) -> str | None:
        """ "errored" / "expired" / None for one request (deterministic per custom_id)."""
        dice = stable_fraction("fault", custom_id)
        if dice < self.errored_fraction:
            return "errored"
        if dice < self.errored_fraction + self.expired_fraction:
            return "expired"
        return None


class FaultSet:
    """The active rules; consumed by the app (single event-loop thread, so no locking)."""

    def __init__(self, rules: list[FaultRule] | None = None) -> None:
        self.rules: list[FaultRule] = list(rules or [])

    def add(self, rules: list[FaultRule]) -> None:
        """Append rules (evaluated in order)."""
        self.rules.extend(rules)

    def clear(self) -> None:
        """Remove every rule."""
        self.rules.clear()

    def take(self, endpoint: str, kinds: frozenset[str]) -> FaultRule | None:
        """Fire the first live rule for `endpoint` whose kind is in `kinds`."""
        for rule in self.rules:
            if rule.kind in kinds and rule.endpoint in (endpoint, "*") and rule.times != 0:
                self.consume([rule])
                return rule
        return None

    def peek_outcome(self) -> tuple[OutcomeFault | None, list[FaultRule]]:
        """Merge the live fraction rules into one OutcomeFault for a new batch.

        Nothing is consumed yet: call `consume(rules)` once the batch is really created, so a
        create rejected with 400 does not use up a rule.
        """
        errored = self._first("errored_fraction")
        expired = self._first("expired_fraction")
        rules = [r for r in (errored, expired) if r is not None]
        if not rules:
            return None, []
        return OutcomeFault(
            errored_fraction=float(errored.param("errored_fraction", 0.0)) if errored else 0.0,
            expired_fraction=float(expired.param("expired_fraction", 0.0)) if expired else 0.0,
            error_type=str(errored.param("type", "api_error")) if errored else "api_error",
            error_message=str(errored.param("message", "Internal server error"))
            if errored
            else "Internal server error",
        ), rules

    def consume(self, rules: list[FaultRule]) -> None:
        """Count one firing of each rule."""
        for rule in rules:
            rule.fired += 1
            if rule.times is not None:
                rule.times -= 1

    def _first(self, kind: str) -> FaultRule | None:
        # Fraction rules are usually written as "results:errored_fraction=…": match any endpoint.
        return next((r for r in self.rules if r.kind == kind and r.times != 0), None)

    def to_json(self) -> list[dict[str, Any]]:
        """Admin-endpoint view of every rule (exhausted ones show times_remaining 0)."""
        return [rule.to_json() for rule in self.rules]
