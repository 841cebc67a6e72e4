"""Shared helpers for the emulator tests: request builders, SDK clients, a schema checker."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx

from letta_batch.providers.emulator import EmulatorServer

MODEL = "claude-sonnet-4-5"


def params(text: str = "Hello", **extra: Any) -> dict[str, Any]:
    """A minimal valid Messages body."""
    body: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 256,
        "messages": [{"role": "user", "content": text}],
    }
    body.update(extra)
    return body


def requests_for(n: int, prefix: str = "r", **extra: Any) -> list[dict[str, Any]]:
    """`n` valid batch requests with custom ids prefix-0 …"""
    return [{"custom_id": f"{prefix}-{i}", "params": params(f"msg {i}", **extra)} for i in range(n)]


def sync_client(emu: EmulatorServer, **kw: Any) -> anthropic.Anthropic:
    """Strict sync client, no retries unless asked."""
    kw.setdefault("max_retries", 0)
    kw.setdefault("api_key", "sk-test")
    return anthropic.Anthropic(base_url=emu.base_url, _strict_response_validation=True, **kw)


def async_client(emu: EmulatorServer, **kw: Any) -> anthropic.AsyncAnthropic:
    """Strict async client, no retries unless asked."""
    kw.setdefault("max_retries", 0)
    kw.setdefault("api_key", "sk-test")
    return anthropic.AsyncAnthropic(base_url=emu.base_url, _strict_response_validation=True, **kw)


def admin(emu: EmulatorServer, method: str, path: str, **kw: Any) -> Any:
    """Call the control API with plain httpx; returns parsed JSON."""
    resp = httpx.request(method, f"{emu.admin_url}{path}", timeout=30, **kw)
    resp.raise_for_status()
    return resp.json()


def check_schema(value: Any, schema: dict[str, Any], root: dict[str, Any] | None = None) -> None:
    """A tiny JSON-Schema checker for the subset the emulator generates (raises AssertionError)."""
    root = root or schema
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return check_schema(value, target, root)
    if "const" in schema:
        assert value == schema["const"]
        return None
    if "enum" in schema:
        assert value in schema["enum"], (value, schema["enum"])
        return None
    for key in ("anyOf", "oneOf"):
        if key in schema:
            errors = []
            for branch in schema[key]:
                try:
                    check_schema(value, branch, root)
                    return None
                except AssertionError as exc:
                    errors.append(exc)
            raise AssertionError(f"{value!r} matches no branch of {key}: {errors}")
    for part in schema.get("allOf", []):
        check_schema(value, part, root)
    kinds = schema.get("type")
    if kinds is None:
        return None
    kinds = kinds if isinstance(kinds, list) else [kinds]
    checks = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
    }
    assert any(checks[k](value) for k in kinds), f"{value!r} is not of type {kinds}"
    if isinstance(value, str):
        assert len(value) >= schema.get("minLength", 0)
        assert len(value) <= schema.get("maxLength", 10**9)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        assert value >= schema.get("minimum", -(10**18))
        assert value <= schema.get("maximum", 10**18)
        assert value > schema.get("exclusiveMinimum", -(10**18))
        assert value < schema.get("exclusiveMaximum", 10**18)
    if isinstance(value, list):
        assert len(value) >= schema.get("minItems", 0)
        assert len(value) <= schema.get("maxItems", 10**9)
        for item in value:
            if "items" in schema:
                check_schema(item, schema["items"], root)
    if isinstance(value, dict):
        for name in schema.get("required", []):
            assert name in value, f"required property {name!r} missing in {value!r}"
        for name, sub in (schema.get("properties") or {}).items():
            if name in value:
                check_schema(value[name], sub, root)
        if schema.get("additionalProperties") is False:
            assert set(value) <= set(schema.get("properties") or {})
    return None
