"""Create-time envelope validation (synchronous 400s) and deferred `params` validation.

The live API checks only the envelope when a batch is created; problems inside `params`
surface later as `errored` result rows (spec §1.3, §0.7). Messages copy the live wording
where it is known (pydantic style `loc: message`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from .config import EmulatorConfig
from .errors import bad_request

CUSTOM_ID_PATTERN = "^[a-zA-Z0-9_-]{1,64}$"
_CUSTOM_ID_RE = re.compile(CUSTOM_ID_PATTERN)
_TOOL_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
_CUSTOM_TOOL_KEYS = frozenset(
    {
        "name",
        "description",
        "input_schema",
        "strict",
        "cache_control",
        "type",
        "defer_loading",
        "input_examples",
        "allowed_callers",
        "eager_input_streaming",
    }
)


@dataclass(frozen=True)
class RowError:
    """An error that turns a request into an `errored` result row."""

    type: str
    message: str


def parse_envelope(body: bytes, config: EmulatorConfig) -> list[tuple[str, dict[str, Any]]]:
    """Validate a create body; return `(custom_id, params)` pairs or raise a 400 ApiError."""
    return check_envelope(decode_body(body), config)


def json_decoder() -> json.JSONDecoder:
    """The decoder ``decode_body`` uses, for decoding a body piece by piece
    (``envelope_stream``)."""
    return json.JSONDecoder(parse_constant=_not_json, parse_float=_finite_float)


def decode_body(body: bytes | bytearray | str) -> Any:
    """json.loads with the live API's 400 message on failure.

    ``NaN``, ``Infinity`` and numbers beyond a double's range are refused: they are not JSON
    (RFC 8259), and params must keep their values through the canonical form
    (``stored_params``), where a non-finite number has no spelling.
    """
    try:
        return json.loads(body, parse_constant=_not_json, parse_float=_finite_float)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"The request body is not valid JSON: {exc}") from None


def _not_json(name: str) -> float:
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number out of range: {text}")
    return value


def check_envelope(data: Any, config: EmulatorConfig) -> list[tuple[str, dict[str, Any]]]:
    """Validate the decoded create body (shape, sizes, custom ids)."""
    if not isinstance(data, dict):
        raise bad_request("body: Input should be a valid dictionary")
    for key in data:
        if key != "requests":
            raise bad_request(f"{key}: Extra inputs are not permitted")
    if "requests" not in data:
        raise bad_request("requests: Field required")
    requests = data["requests"]
    if not isinstance(requests, list):
        raise bad_request("requests: Input should be a valid list")
    if not requests:
        raise bad_request("requests: List should have at least 1 item after validation, not 0")
    if len(requests) > config.max_requests:
        raise bad_request(
            f"requests: List should have at most {config.max_requests} items after "
            f"validation, not {len(requests)}"
        )
    out: list[tuple[str, dict[str, Any]]] = []
    for i, item in enumerate(requests):
        out.append(check_item(i, item))
    seen: set[str] = set()
    for custom_id, _ in out:
        if custom_id in seen:
            raise bad_request(
                "requests: custom_id's must be unique within a batch. "
                f"Duplicate custom_id found: {custom_id}"
            )
        seen.add(custom_id)
    return out


def check_item(i: int, item: Any) -> tuple[str, dict[str, Any]]:
    loc = f"requests.{i}"
    if not isinstance(item, dict):
        raise bad_request(f"{loc}: Input should be a valid dictionary")
    for key in item:
        if key not in ("custom_id", "params"):
            raise bad_request(f"{loc}.{key}: Extra inputs are not permitted")
    if "custom_id" not in item:
        raise bad_request(f"{loc}.custom_id: Field required")
    cid = item["custom_id"]
    if not isinstance(cid, str):
        raise bad_request(f"{loc}.custom_id: Input should be a valid string")
    if len(cid) < 1:
        raise bad_request(f"{loc}.custom_id: String should have at least 1 character")
    if len(cid) > 64:
        raise bad_request(f"{loc}.custom_id: String should have at most 64 characters")
    if not _CUSTOM_ID_RE.match(cid):
        raise bad_request(f"{loc}.custom_id: String should match pattern '{CUSTOM_ID_PATTERN}'")
    if "params" not in item:
        raise bad_request(f"{loc}.params: Field required")
    if not isinstance(item["params"], dict):
        raise bad_request(f"{loc}.params: Input should be a valid dictionary")
    return cid, item["params"]


def _invalid(message: str) -> RowError:
    return RowError("invalid_request_error", message)


def validate_params(params: dict[str, Any], config: EmulatorConfig) -> RowError | None:
    """Deferred validation of one request's `params`; None when the request is servable."""
    for field in ("model", "max_tokens", "messages"):
        if field not in params:
            return _invalid(f"{field}: Field required")
    if params.get("stream"):
        return _invalid('"stream=True" is not supported in the Message Batches API')
    model = params["model"]
    if not isinstance(model, str):
        return _invalid("model: Input should be a valid string")
    max_tokens = params["max_tokens"]
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
        return _invalid("max_tokens: Input should be a valid integer")
    if max_tokens < 1:
        return _invalid("max_tokens: must be greater than or equal to 1")
    messages = params["messages"]
    if not isinstance(messages, list):
        return _invalid("messages: Input should be a valid list")
    if not messages:
        return _invalid("messages: at least one message is required")
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") not in ("user", "assistant"):
            return _invalid(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        if "content" not in msg:
            return _invalid(f"messages.{i}.content: Field required")
    user_id = (params.get("metadata") or {}).get("user_id")
    if isinstance(user_id, str) and len(user_id) > 512:
        return _invalid("metadata.user_id: String should have at most 512 characters")
    problem = _check_tools(params) or _check_thinking(params, max_tokens)
    if problem:
        return problem
    if not config.model_is_known(model):
        return RowError("not_found_error", f"model: {model}")
    if max_tokens > config.max_output_tokens:
        return _invalid(
            f"max_tokens: {max_tokens} > {config.max_output_tokens}, which is the maximum "
            f"allowed number of output tokens for {model}"
        )
    return None


def _check_tools(params: dict[str, Any]) -> RowError | None:
    tools = params.get("tools") or []
    if not isinstance(tools, list):
        return _invalid("tools: Input should be a valid list")
    names: set[str] = set()
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            return _invalid(f"tools.{i}: Input should be a valid dictionary")
        if tool.get("type", "custom") not in (None, "custom"):
            names.add(str(tool.get("name", "")))  # server tools: accepted, never called
            continue
        for key in tool:
            if key not in _CUSTOM_TOOL_KEYS:
                return _invalid(f"tools.{i}.custom.{key}: Extra inputs are not permitted")
        name = tool.get("name")
        if not isinstance(name, str) or not _TOOL_NAME_RE.match(name):
            return _invalid(
                f"tools.{i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'"
            )
        if not isinstance(tool.get("input_schema"), dict):
            return _invalid(f"tools.{i}.custom.input_schema: Field required")
        if name in names:
            return _invalid("tools: Tool names must be unique.")
        names.add(name)
    choice = params.get("tool_choice")
    if choice is None:
        return None
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind not in ("auto", "any", "tool", "none"):
        return _invalid(
            "tool_choice: Input tag does not match any of the expected tags: 'auto', 'any', 'tool', 'none'"
        )
    if kind in ("any", "tool") and not tools:
        return _invalid("tool_choice may only be specified while providing tools.")
    if kind == "tool" and choice.get("name") not in names:
        return _invalid(
            f"tool_choice.name: Tool '{choice.get('name')}' not found in provided tools"
        )
    return None


def _check_thinking(params: dict[str, Any], max_tokens: int) -> RowError | None:
    thinking = params.get("thinking")
    if not isinstance(thinking, dict) or thinking.get("type") != "enabled":
        return None
    budget = thinking.get("budget_tokens")
    if not isinstance(budget, int) or isinstance(budget, bool):
        return _invalid("thinking.enabled.budget_tokens: Field required")
    if budget < 1024:
        return _invalid(
            "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
        )
    if budget >= max_tokens:
        return _invalid("`max_tokens` must be greater than `thinking.budget_tokens`.")
    choice = params.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") in ("any", "tool"):
        return _invalid("Thinking may not be enabled when tool_choice forces tool use.")
    return None
