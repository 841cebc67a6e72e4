"""Messages-API params for one agent's step (Letta's ``AnthropicClient.build_request_data``).

Built from the agent's *own* ``llm_config`` (Letta applied the first agent's client and
agent type to every agent, §8.2). Output is deterministic: same input, same dict, same key
order, so stored params and golden files compare byte for byte.

Deliberate differences from Letta (see also `message_converter` and `tool_schema`):
- model checks use the model without a ``provider/`` prefix (Letta checked the raw name);
- ``request_heartbeat`` is offered on every non-terminal tool of non-v1 agents (§8.8);
- ``metadata.user_id = "<agent_id>:<step>"`` identifies the request (the emulator's scenario
  rules match on it);
- ``context_management`` (Opus 4.5) is not sent: it is a beta-only field and batches go to
  the GA endpoint without beta headers (Letta sent it without the beta header too);
- ``force_tool_call=False`` asks for ``auto`` instead of ``any`` (Letta's batch always forced).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from letta_batch import json_codec
from letta_batch.providers.anthropic.context_turns import ContextTurns, Turn, drop_heartbeat_args
from letta_batch.providers.anthropic.message_converter import convert_messages, strip_prefix
from letta_batch.providers.anthropic.tool_schema import (
    ToolSetJSON,
    anthropic_tool_set,
    anthropic_tools,
    supports_structured_outputs,
)
from letta_batch.providers.anthropic.turns import (
    EPHEMERAL,
    cache_last_block,
    dedupe_tool_results,
    drop_empty,
    drop_heartbeats,
    ensure_user_first,
    merge_heartbeats_into_tool_results,
    merge_same_role,
    thinking_first,
)
from letta_batch.schemas.agent import Agent, LLMConfig
from letta_batch.schemas.enums import AgentType, MessageRole
from letta_batch.schemas.message import Message
from letta_batch.schemas.tool import Tool
from letta_batch.stepping.stored_request import StoredRequest, split_tools

DEFAULT_MAX_TOKENS = 4096
MIN_THINKING_BUDGET = 1024
_REASONING_PREFIXES = ("claude-3-7-sonnet", "claude-sonnet-4", "claude-opus-4", "claude-haiku-4-5")
_ADAPTIVE_PREFIXES = ("claude-opus-4-6", "claude-sonnet-4-6")
_EFFORT_PREFIXES = ("claude-opus-4-5", "claude-opus-4-6", "claude-sonnet-4-6")
#: The assistant prefill Letta adds for non-thinking, non-kwargs, non-Opus requests.
INNER_THOUGHTS_PREFILL = "<thinking>"


def is_reasoning_model(model: str) -> bool:
    """Models Letta enables extended thinking on (``is_reasoning_model``)."""
    return strip_prefix(model).startswith(_REASONING_PREFIXES)


def thinking_enabled(cfg: LLMConfig) -> bool:
    return cfg.enable_reasoner and is_reasoning_model(cfg.model)


def thinking_config(cfg: LLMConfig) -> dict[str, Any] | None:
    """``thinking``: adaptive on Opus/Sonnet 4.6, else enabled with a budget ≥ 1024."""
    if not thinking_enabled(cfg):
        return None
    if cfg.provider_model.startswith(_ADAPTIVE_PREFIXES):
        return {"type": "adaptive"}
    return {"type": "enabled", "budget_tokens": max(cfg.max_reasoning_tokens, MIN_THINKING_BUDGET)}


def tool_choice(*, thinking: bool, is_v1: bool, force_tool_call: bool) -> dict[str, Any]:
    """``any`` cannot be combined with thinking; v1 agents end their turn by not calling."""
    kind = "auto" if thinking or is_v1 or not force_tool_call else "any"
    return {"type": kind, "disable_parallel_tool_use": True}


def build_request_params(
    agent: Agent,
    messages: Sequence[Message],
    tools: Sequence[Tool],
    *,
    terminal_tool_names: Collection[str],
    step: int,
    force_tool_call: bool = True,
) -> dict[str, Any]:
    """The Messages-API params of `agent`'s request for `step`.

    `messages` is the in-context history with the compiled system message first; `tools`
    is already the allowed set. Raises `RuntimeError` when ``messages[0]`` is not the system
    message and `ValueError` on a tool message that cannot be paired with its call.
    """
    params, _ = _params(
        agent,
        messages,
        tools,
        terminal_tool_names=terminal_tool_names,
        step=step,
        force_tool_call=force_tool_call,
        tools_param=anthropic_tools,
        prior=None,
    )
    return params


#: Serialised in place of the ``tools`` array, then cut out (``split_tools``).
_TOOLS_PLACEHOLDER = b"null"


@dataclass(frozen=True)
class ConvertedHistory:
    """The history a request was built from, converted (what ``ContextTurns`` keeps)."""

    turns: list[Turn]
    """One turn per message after the system message, ``request_heartbeat`` in every call."""
    called: frozenset[str]
    """Names of the tools the history called."""


def history_conversion(agent: Agent) -> tuple[str, bool]:
    """What converting ``agent``'s history depends on besides the messages: the model and
    whether inner thoughts go into the tool arguments (``ContextTurns.covers``)."""
    cfg = agent.llm_config
    return (
        cfg.model,
        cfg.put_inner_thoughts_in_kwargs and agent.agent_type is not AgentType.letta_v1_agent,
    )


def build_stored_request(
    agent: Agent,
    messages: Sequence[Message],
    tools: Sequence[Tool],
    *,
    terminal_tool_names: Collection[str],
    step: int,
    prior: ContextTurns | None = None,
    force_tool_call: bool = True,
) -> tuple[StoredRequest, ConvertedHistory]:
    """:func:`build_request_params` as ``build`` stores it: compact JSON bytes without the
    ``tools`` array, which is serialised once per distinct set (``anthropic_tool_set``) and
    stored once for all the agents that send it (``stepping.stored_request``); and the
    whole history converted, for the agent's next build.

    With ``prior``, the history starts with its turns: `messages` is then the system
    message and the history messages ``prior`` does not cover (the caller checked
    ``prior.covers``). The request is the same as from the whole history."""
    used: list[ToolSetJSON] = []

    def tools_param(tools: Sequence[Tool], **options: Any) -> orjson.Fragment:
        used.append(anthropic_tool_set(tools, **options))
        return orjson.Fragment(_TOOLS_PLACEHOLDER)

    params, history = _params(
        agent,
        messages,
        tools,
        terminal_tool_names=terminal_tool_names,
        step=step,
        force_tool_call=force_tool_call,
        tools_param=tools_param,
        prior=prior,
    )
    data = json_codec.dumps_bytes(params)
    if not used:
        return StoredRequest(body=data), history
    return split_tools(data, _TOOLS_PLACEHOLDER, used[0].id, used[0].json), history


def _params(
    agent: Agent,
    messages: Sequence[Message],
    tools: Sequence[Tool],
    *,
    terminal_tool_names: Collection[str],
    step: int,
    force_tool_call: bool,
    tools_param: Callable[..., Any],
    prior: ContextTurns | None,
) -> tuple[dict[str, Any], ConvertedHistory]:
    if not messages or messages[0].role != MessageRole.system:
        role = messages[0].role if messages else None
        raise RuntimeError(f"First message is not a system message, instead has role {role}")
    cfg = agent.llm_config
    model = cfg.provider_model
    is_v1 = agent.agent_type is AgentType.letta_v1_agent
    current_model, inner_thoughts = history_conversion(agent)
    thinking = thinking_config(cfg)
    terminal = set(terminal_tool_names)
    heartbeat_tools = frozenset() if is_v1 else frozenset(t.name for t in tools) - terminal
    # The history converted once, whoever converted its start (`prior`), with every call's
    # heartbeat argument: which calls keep it depends on this step's terminal tools.
    history = ConvertedHistory(
        turns=[
            *(prior.turns if prior else ()),
            *convert_messages(
                messages[1:], current_model=current_model, inner_thoughts=inner_thoughts
            ),
        ],
        called=_called_tools(messages) | (prior.called if prior else frozenset()),
    )
    # Past calls of tools not offered now (filtered out this step) keep their heartbeat if
    # the tool is non-terminal: that is the schema they were made against.
    history_heartbeat = frozenset() if is_v1 else history.called - terminal

    params: dict[str, Any] = {
        "model": model,
        "max_tokens": cfg.max_tokens or DEFAULT_MAX_TOKENS,
        "temperature": 1.0 if thinking else cfg.temperature,
    }
    if thinking:
        params["thinking"] = thinking
    if cfg.effort is not None and model.startswith(_EFFORT_PREFIXES):
        params["output_config"] = {"effort": cfg.effort}
    if tools:
        params["tool_choice"] = tool_choice(
            thinking=thinking is not None, is_v1=is_v1, force_tool_call=force_tool_call
        )
        params["tools"] = tools_param(
            tools,
            heartbeat_tools=heartbeat_tools,
            inner_thoughts=inner_thoughts,
            strict=cfg.strict and supports_structured_outputs(model),
        )
    params["system"] = [
        {"type": "text", "text": messages[0].text(), "cache_control": dict(EPHEMERAL)}
    ]
    params["messages"] = _turns(agent, drop_heartbeat_args(history.turns, history_heartbeat))
    if thinking is None and not is_v1 and not inner_thoughts and "opus" not in model:
        params["messages"].append({"role": "assistant", "content": INNER_THOUGHTS_PREFILL})
    params["metadata"] = {"user_id": f"{agent.id}:{step}"}
    return params, history


def _called_tools(messages: Sequence[Message]) -> frozenset[str]:
    return frozenset(c.function.name for m in messages for c in (m.tool_calls or []))


def _turns(agent: Agent, turns: list[Turn]) -> list[dict[str, Any]]:
    """The whole-conversation passes over the converted history (they copy what they change,
    so ``turns`` can be kept for the next step)."""
    turns = merge_same_role(drop_empty(turns))
    if agent.agent_type is AgentType.letta_v1_agent:
        turns = merge_same_role(drop_heartbeats(turns))
    elif agent.llm_config.enable_reasoner:
        turns = merge_heartbeats_into_tool_results(turns)
    turns = thinking_first(dedupe_tool_results(turns))
    return cache_last_block(ensure_user_first(turns))
