"""A request built from the previous step's converted turns equals one built from the whole
history, byte for byte, whatever the split, the agent's configuration and the step's tools."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from letta_batch.providers.anthropic.context_turns import ContextTurns, ids_digest
from letta_batch.providers.anthropic.request_builder import (
    build_stored_request,
    history_conversion,
)
from letta_batch.schemas import (
    AgentType,
    ImageContent,
    Message,
    MessageRole,
    ReasoningContent,
    RedactedReasoningContent,
    TextContent,
    ToolCall,
    ToolCallFunction,
    ToolReturn,
)
from tests.providers.anthropic.sample import (
    HEARTBEAT,
    SIGNATURE,
    TOOLS,
    msg,
    sample_agent,
    sample_history,
)


def _call(n: int, name: str, *, heartbeat: bool = True, **args: Any) -> ToolCall:
    arguments = json.dumps({**args, "request_heartbeat": heartbeat})
    return ToolCall(id=f"toolu_{n}", function=ToolCallFunction(name=name, arguments=arguments))


def _turn(n: int, name: str, *, model: str | None = None, **content: Any) -> list[Message]:
    """An assistant call of ``name``, its tool return and a heartbeat (messages n..n+2)."""
    call = _call(n, name, **content.pop("args", {}))
    return [
        msg(n, MessageRole.assistant, model=model, tool_calls=[call], **content),
        msg(
            n + 1,
            MessageRole.tool,
            name=name,
            tool_call_id=call.id,
            content=[TextContent(text=f"result {n}")],
            tool_returns=[
                ToolReturn(tool_call_id=call.id, status="success", func_response=f"result {n}")
            ],
        ),
        msg(n + 2, MessageRole.user, content=[TextContent(text=HEARTBEAT)]),
    ]


def long_history() -> list[Message]:
    """Every shape the conversion treats differently, over several steps."""
    return [
        *sample_history(),
        *_turn(
            10, "get_weather", content=[TextContent(text="thinking aloud")], args={"city": "Oslo"}
        ),
        msg(13, MessageRole.system, content=[TextContent(text="memory was updated")]),
        *_turn(
            20,
            "core_memory_append",
            model="claude-3-7-sonnet-20250219",  # another model: its reasoning is not replayed
            content=[
                ReasoningContent(reasoning="old model", signature=SIGNATURE),
                RedactedReasoningContent(data="ENCRYPTED"),
            ],
            args={"label": "human", "content": "likes tea"},
        ),
        msg(
            30,
            MessageRole.user,
            content=[
                TextContent(text="look at this"),
                ImageContent(media_type="image/png", data="iVBORw0KGgo="),
            ],
        ),
        msg(31, MessageRole.approval, content=[TextContent(text="approved")]),  # no calls
        msg(32, MessageRole.assistant, content=[TextContent(text="   ")]),  # blank: dropped
        *_turn(40, "send_message", args={"message": "Sunny in Oslo ☀"}, heartbeat=False),
        msg(43, MessageRole.user, content=[TextContent(text="and tomorrow?")]),
        *_turn(
            50,
            "get_weather",
            content=[ReasoningContent(reasoning="again", signature=SIGNATURE)],
            args={"city": "Oslo", "day": 1, "ratio": 0.5, "deep": {"k": [1, None, True]}},
        ),
    ]


CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "reasoner": {"enable_reasoner": True},
    "inner_thoughts": {"put_inner_thoughts_in_kwargs": True},
    "v1": {"agent_type": AgentType.letta_v1_agent},
    "opus": {"model": "claude-opus-4-1-20250805"},
    "haiku_3": {"model": "claude-3-5-haiku-20241022"},
}
#: (tools, terminal tools) of a step: all offered, a tool filtered out, no terminal tool.
STEPS = {
    "all": (TOOLS, {"send_message"}),
    "filtered": ([t for t in TOOLS if t.name != "get_weather"], {"send_message"}),
    "no_terminal": (TOOLS, set()),
}


def _prior(agent, history: list[Message], k: int, step: str) -> ContextTurns:
    """What the step that saw ``history[: 1 + k]`` stored (under ``step``'s tools)."""
    tools, terminal = STEPS[step]
    _, converted = build_stored_request(
        agent, history[: 1 + k], tools, terminal_tool_names=terminal, step=1, prior=None
    )
    model, inner_thoughts = history_conversion(agent)
    ids = [m.id for m in history[1 : 1 + k]]
    turns = ContextTurns(
        model=model,
        inner_thoughts=inner_thoughts,
        count=k,
        digest=ids_digest(ids),
        called=converted.called,
        turns=converted.turns,
    )
    stored = turns.to_bytes()
    assert stored is not None
    back = ContextTurns.from_bytes(stored)
    assert back == turns
    return back


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize(("before", "now"), list(itertools.product(sorted(STEPS), repeat=2)))
def test_prior_turns_and_the_rest_build_the_same_request_as_the_whole_history(
    config: str, before: str, now: str
) -> None:
    agent = sample_agent(**CONFIGS[config])
    history = long_history()
    tools, terminal = STEPS[now]
    whole, whole_history = build_stored_request(
        agent, history, tools, terminal_tool_names=terminal, step=2, prior=None
    )
    for k in range(len(history)):
        prior = _prior(agent, history, k, before)
        assert prior.covers(
            model=agent.llm_config.model,
            inner_thoughts=history_conversion(agent)[1],
            message_ids=[m.id for m in history],
        )
        built, converted = build_stored_request(
            agent,
            [history[0], *history[1 + k :]],
            tools,
            terminal_tool_names=terminal,
            step=2,
            prior=prior,
        )
        assert built.params() == whole.params(), f"split after {k} history messages"
        assert converted == whole_history


def _stored(**overrides: Any) -> ContextTurns:
    fields: dict[str, Any] = {
        "model": "claude-sonnet-4-20250514",
        "inner_thoughts": False,
        "count": 2,
        "digest": ids_digest(["m1", "m2"]),
        "called": frozenset({"send_message"}),
        "turns": [{"role": "user", "content": "hi"}],
    }
    return ContextTurns(**{**fields, **overrides})


def test_turns_cover_only_the_same_ids_under_the_same_conversion() -> None:
    turns = _stored()
    same = {"model": "claude-sonnet-4-20250514", "inner_thoughts": False}
    assert turns.covers(**same, message_ids=["sys", "m1", "m2"])
    assert turns.covers(**same, message_ids=["sys", "m1", "m2", "m3"])
    assert not turns.covers(**same, message_ids=["sys", "m1"])  # cut
    assert not turns.covers(**same, message_ids=["sys", "m2", "m1"])  # reordered
    assert not turns.covers(**same, message_ids=["sys", "m1", "mX", "m2"])  # inserted
    assert not turns.covers(**same, message_ids=["m1", "m2", "m3"])  # system message gone
    assert not turns.covers(
        model="claude-opus-4-1-20250805", inner_thoughts=False, message_ids=["s", "m1", "m2"]
    )
    assert not turns.covers(
        model="claude-sonnet-4-20250514", inner_thoughts=True, message_ids=["s", "m1", "m2"]
    )


@pytest.mark.parametrize(
    "data",
    [
        None,
        b"",
        b"not json",
        b"[]",
        b'{"format": 2}',
        b'{"format": 1, "model": "m"}',
        b'{"format": 1, "model": "m", "inner_thoughts": false, "count": 1, "digest": "d",'
        b' "called": [], "turns": ["not a turn"]}',
    ],
)
def test_anything_but_the_current_stored_form_reads_as_nothing(data: bytes | None) -> None:
    assert ContextTurns.from_bytes(data) is None


def test_turns_orjson_cannot_write_exactly_are_not_kept() -> None:
    assert _stored(turns=[{"role": "user", "content": "\ud800"}]).to_bytes() is None
    assert _stored(turns=[{"role": "user", "content": 1 << 70}]).to_bytes() is None
    assert ContextTurns.from_bytes(_stored().to_bytes()) == _stored()
