"""Generate a JSON value that satisfies a (practical subset of) JSON Schema.

Used by the synthetic model to fill `tool_use.input`. Supported: `type` (string, integer,
number, boolean, array, object, null, or a list of types -> first), `enum`, `const`,
`anyOf`/`oneOf` (first branch), `allOf` (merged objects), local `$ref` (`#/$defs/…`,
`#/definitions/…`), `properties`/`required`, `items`/`prefixItems`, `minItems`/`maxItems`,
`minimum`/`maximum`/`exclusiveMinimum`/`exclusiveMaximum`, `minLength`/`maxLength`, and a few
string `format`s. Required properties are always present; optional ones appear about half of
the time, except `request_heartbeat`, which is always set (Letta tools rely on it).
"""

from __future__ import annotations

import math
import random
from typing import Any

HEARTBEAT = "request_heartbeat"
_WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
    "quebec",
    "romeo",
    "sierra",
    "tango",
    "uniform",
    "victor",
    "whiskey",
    "xray",
]
_MAX_DEPTH = 8


def generate(schema: Any, rng: random.Random, *, heartbeat_probability: float = 0.5) -> Any:
    """A value valid against `schema` (deterministic for a seeded `rng`)."""
    gen = _Generator(schema if isinstance(schema, dict) else {}, rng, heartbeat_probability)
    return gen.value(schema, 0)


class _Generator:
    def __init__(self, root: dict[str, Any], rng: random.Random, heartbeat: float) -> None:
        self.root = root
        self.rng = rng
        self.heartbeat = heartbeat

    def resolve(self, schema: Any) -> dict[str, Any]:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 20:
            ref = str(schema["$ref"])
            target: Any = self.root
            for part in ref.lstrip("#").strip("/").split("/") if ref.startswith("#") else []:
                target = target.get(part, {}) if isinstance(target, dict) else {}
            schema, seen = target, seen + 1
        return schema if isinstance(schema, dict) else {}

    def value(self, schema: Any, depth: int) -> Any:
        s = self.resolve(schema)
        if "const" in s:
            return s["const"]
        if isinstance(s.get("enum"), list) and s["enum"]:
            return self.rng.choice(s["enum"])
        for key in ("anyOf", "oneOf"):
            if isinstance(s.get(key), list) and s[key]:
                return self.value(s[key][0], depth + 1)
        if isinstance(s.get("allOf"), list) and s["allOf"]:
            return self.value(self.merge(s), depth + 1)
        kind = s.get("type")
        if isinstance(kind, list):
            kind = kind[0] if kind else None
        if kind is None:
            kind = "object" if "properties" in s else "array" if "items" in s else "string"
        return getattr(self, f"gen_{kind}", self.gen_string)(s, depth)

    def merge(self, s: dict[str, Any]) -> dict[str, Any]:
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for part in [s, *s["allOf"]]:
            part = self.resolve(part)
            merged["properties"].update(part.get("properties") or {})
            merged["required"].extend(part.get("required") or [])
        return merged

    def gen_null(self, s: dict[str, Any], depth: int) -> None:
        return None

    def gen_boolean(self, s: dict[str, Any], depth: int) -> bool:
        return self.rng.random() < 0.5

    def gen_integer(self, s: dict[str, Any], depth: int) -> int:
        lo, hi = self.bounds(s, 0, 100, 1)
        return self.rng.randint(int(lo), max(int(lo), int(hi)))

    def gen_number(self, s: dict[str, Any], depth: int) -> float:
        lo, hi = self.bounds(s, 0.0, 100.0, 0.01)
        return round(self.rng.uniform(lo, hi), 2) if hi > lo else float(lo)

    def bounds(self, s: dict[str, Any], lo: float, hi: float, step: float) -> tuple[float, float]:
        if isinstance(s.get("minimum"), (int, float)):
            lo = s["minimum"]
        if isinstance(s.get("exclusiveMinimum"), (int, float)):
            lo = s["exclusiveMinimum"] + step
        if isinstance(s.get("maximum"), (int, float)):
            hi = s["maximum"]
        if isinstance(s.get("exclusiveMaximum"), (int, float)):
            hi = s["exclusiveMaximum"] - step
        if hi < lo:
            hi = lo + 100 if "maximum" not in s and "exclusiveMaximum" not in s else lo
        if step == 1:
            lo, hi = math.ceil(lo), math.floor(hi)
        return lo, hi

    def gen_string(self, s: dict[str, Any], depth: int) -> str:
        fmt = s.get("format")
        if fmt == "date-time":
            return f"2026-01-0{self.rng.randint(1, 9)}T12:00:00Z"
        if fmt == "date":
            return f"2026-01-0{self.rng.randint(1, 9)}"
        if fmt == "email":
            return f"{self.rng.choice(_WORDS)}@example.com"
        if fmt in ("uri", "url"):
            return f"https://example.com/{self.rng.choice(_WORDS)}"
        if fmt == "uuid":
            high, low = self.rng.getrandbits(32), self.rng.getrandbits(48)
            return f"{high:08x}-0000-4000-8000-{low:012x}"
        text = " ".join(self.rng.choice(_WORDS) for _ in range(self.rng.randint(2, 5)))
        min_len = int(s.get("minLength") or 0)
        max_len = s.get("maxLength")
        while len(text) < min_len:
            text += " " + self.rng.choice(_WORDS)
        if isinstance(max_len, int):
            text = text[: max(max_len, 0)]
        return text

    def gen_array(self, s: dict[str, Any], depth: int) -> list[Any]:
        lo = int(s.get("minItems") or 0)
        hi = s.get("maxItems")
        hi = int(hi) if isinstance(hi, int) else max(lo, 2)
        n = min(hi, max(lo, self.rng.randint(1, 2) if depth < _MAX_DEPTH else lo))
        prefix: list[Any] = s["prefixItems"] if isinstance(s.get("prefixItems"), list) else []
        out = [
            self.value(prefix[i] if i < len(prefix) else s.get("items", {}), depth + 1)
            for i in range(max(n, len(prefix)))
        ]
        if s.get("uniqueItems"):
            uniq: list[Any] = []
            for item in out:
                if item not in uniq:
                    uniq.append(item)
            out = uniq if len(uniq) >= lo else out
        return out

    def allows_boolean(self, schema: Any) -> bool:
        s = self.resolve(schema)
        kind = s.get("type")
        if any(key in s for key in ("enum", "const", "anyOf", "oneOf", "allOf")):
            return False
        return kind in (None, "boolean") or (isinstance(kind, list) and "boolean" in kind)

    def gen_object(self, s: dict[str, Any], depth: int) -> dict[str, Any]:
        props: dict[str, Any] = s["properties"] if isinstance(s.get("properties"), dict) else {}
        required = set(s.get("required") or [])
        out: dict[str, Any] = {}
        for name, sub in props.items():
            if name == HEARTBEAT and self.allows_boolean(sub):
                out[name] = self.rng.random() < self.heartbeat
            elif name in required or (depth < _MAX_DEPTH and self.rng.random() < 0.5):
                out[name] = self.value(sub, depth + 1)
        for name in required - set(out):
            out[name] = "value"  # required but undeclared: any value satisfies it
        return out
