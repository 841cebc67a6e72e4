"""The scenarios recorded into the replay corpus (``tests/histories``).

Each scenario is a set of agent definitions, the emulator's scripted replies per agent and
step, the job's settings, and what the job must end as. Everything the model says is
scripted, so a re-recording produces the same sequence of workflow commands (only ids and
timestamps differ). Agent names are the keys of the ``ids`` mapping the reply builders get.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Rules = list[dict[str, Any]]

_BASE: dict[str, Any] = {
    "model": "anthropic/claude-sonnet-4-5",
    "enable_reasoner": False,
    "memory_blocks": [
        {"label": "human", "value": "Name unknown.", "limit": 2000},
        {"label": "persona", "value": "I help.", "limit": 2000},
    ],
}

WEATHER_SOURCE = '''
def get_weather(city: str) -> str:
    """Get the weather for a city.

    Args:
        city (str): The city.
    """
    return city + ": clear"
'''

#: Crashes the sandbox (no result: a retryable failure) on the first attempt of each call,
#: succeeds on the retry. The marker directory comes in through the tool's ``execution.env``.
FLAKY_SOURCE = '''
def flaky_fetch(url: str) -> str:
    """Fetch a URL from a flaky upstream.

    Args:
        url (str): The URL.
    """
    import hashlib
    import os
    import pathlib
    key = hashlib.sha256(os.environ["LETTA_TOOL_IDEMPOTENCY_KEY"].encode()).hexdigest()
    marker = pathlib.Path(os.environ["FLAKY_MARKER_DIR"]) / key
    if not marker.exists():
        marker.write_text("crashed once")
        os._exit(1)
    return "fetched " + url
'''


@dataclass(frozen=True)
class HistoryScenario:
    """One recorded job."""

    name: str
    """File stem in the corpus."""
    description: str
    agents: list[dict[str, Any]]
    """Agent definitions; ``name`` is suffixed per recording to keep names unique."""
    replies: Callable[[dict[str, str]], Rules]
    """Agent name → id, to the emulator's scripted rules."""
    tools: Callable[[Path], list[dict[str, Any]]] = lambda _work: []
    """Tool definitions, given a scratch directory the tools may use."""
    max_steps: int = 5
    event_budget: int | None = None
    slow_provider: bool = False
    """Use the emulator whose batches take an hour (the job sits in ``poll``)."""
    cancel_in_poll: bool = False
    """Cancel the job once its ``progress`` query shows the poll phase."""
    expect_status: str = "completed"
    expect_agents: dict[str, int] = field(default_factory=dict)
    """Agent counts per final status the job must end with (empty: not checked)."""
    min_runs: int = 1
    batch_max_requests: int | None = None
    """Requests per provider batch (``Settings.batch_max_requests``): small splits steps."""
    shards: int | None = None
    """Shards per step (``BatchJobInput.shards``): the heavy phases run as that many
    concurrent activities."""
    expect_tool_attempts: int | None = None
    """Sandbox attempts the custom tool call must have taken (None: not checked)."""


def _agent(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "system": f"You are {name}.", **_BASE, **extra}


def say(agent_id: str, step: int, name: str, heartbeat: bool = False, **args: Any) -> dict:
    """A rule: at ``step`` the agent calls tool ``name`` with ``args``."""
    return {
        "match": {"agent_id": agent_id, "step": step},
        "reply": {"tool": name, "input": {**args, "request_heartbeat": heartbeat}},
    }


def _weather_tool(_work: Path) -> list[dict[str, Any]]:
    return [{"source_code": WEATHER_SOURCE}]


def _flaky_tool(work: Path) -> list[dict[str, Any]]:
    markers = work / "flaky-markers"
    markers.mkdir(parents=True, exist_ok=True)
    execution = {"env": {"FLAKY_MARKER_DIR": str(markers)}, "initial_interval_seconds": 1}
    return [{"source_code": FLAKY_SOURCE, "execution": execution}]


def _edit_then_two_replies(editor: str, a: str, b: str) -> Callable[[dict[str, str]], Rules]:
    """``editor`` edits memory with a heartbeat, then replies (2 steps); ``a`` and ``b``
    reply at once (1 step)."""
    return lambda ids: [
        say(ids[editor], 0, "memory_insert", True, label="human", new_string="Likes tea."),
        say(ids[editor], 1, "send_message", message="Noted."),
        say(ids[a], 0, "send_message", message="Hi."),
        say(ids[b], 0, "send_message", message="Hello."),
    ]


def _weather_child_rule() -> dict[str, Any]:
    return {
        "type": "constrain_child_tools",
        "tool_name": "get_weather",
        "children": ["send_message"],
    }


SCENARIOS: list[HistoryScenario] = [
    HistoryScenario(
        name="one_step",
        description="one agent answers with send_message: one step, done",
        agents=[_agent("solo")],
        replies=lambda ids: [say(ids["solo"], 0, "send_message", message="Hi!")],
        expect_agents={"completed": 1},
    ),
    HistoryScenario(
        name="multi_step_heartbeats",
        description="heartbeat continuations over three steps; built-in and custom tools",
        agents=[
            _agent("heart"),
            _agent("weather", tools=["get_weather"], tool_rules=[_weather_child_rule()]),
        ],
        tools=_weather_tool,
        replies=lambda ids: [
            say(ids["heart"], 0, "memory_insert", True, label="human", new_string="Likes tea."),
            say(ids["heart"], 1, "conversation_search", True, query="tea"),
            say(ids["heart"], 2, "send_message", message="Noted."),
            say(ids["weather"], 0, "get_weather", city="Paris"),
            say(ids["weather"], 1, "send_message", message="Sunny."),
        ],
        expect_agents={"completed": 2},
    ),
    HistoryScenario(
        name="partial_failure",
        description="one item succeeds, one is errored, one expired",
        agents=[_agent("ok"), _agent("errored"), _agent("expired")],
        replies=lambda ids: [
            say(ids["ok"], 0, "send_message", message="hi"),
            {
                "match": {"agent_id": ids["errored"]},
                "reply": {"error": {"type": "overloaded_error", "message": "Overloaded"}},
            },
            {"match": {"agent_id": ids["expired"]}, "reply": {"expired": True}},
        ],
        expect_status="completed_with_failures",
        expect_agents={"completed": 1, "failed": 2},
    ),
    HistoryScenario(
        name="split_step",
        description="three agents, at most two requests per provider batch: step 0 is sent "
        "as two provider batches, step 1 as one",
        agents=[_agent("s1"), _agent("s2"), _agent("s3")],
        replies=_edit_then_two_replies("s1", "s2", "s3"),
        batch_max_requests=2,
        expect_agents={"completed": 3},
    ),
    HistoryScenario(
        name="sharded_step",
        description="three agents over two shards: build, collect, decide, built-in tools "
        "and persist run as two concurrent activities per step; step 0's requests go out "
        "as two provider batches (one per shard), step 1's as one",
        agents=[_agent("h1"), _agent("h2"), _agent("h3")],
        replies=_edit_then_two_replies("h1", "h2", "h3"),
        shards=2,
        expect_agents={"completed": 3},
    ),
    HistoryScenario(
        name="cancel_during_polling",
        description="the provider takes an hour; the operator cancels while the job polls",
        agents=[_agent("slow1"), _agent("slow2")],
        replies=lambda ids: [say(i, 0, "send_message", message="late") for i in ids.values()],
        slow_provider=True,
        cancel_in_poll=True,
        expect_status="cancelled",
        expect_agents={"cancelled": 2},
    ),
    HistoryScenario(
        name="continue_as_new",
        description="a small event budget: the job continues as new between steps",
        agents=[_agent("search1"), _agent("search2")],
        replies=lambda ids: [
            {
                "match": {"agent_id": i},
                "reply": {
                    "tool": "conversation_search",
                    "input": {"query": "tea", "request_heartbeat": True},
                },
            }
            for i in ids.values()
        ],
        max_steps=4,
        event_budget=60,
        expect_agents={"completed": 2},
        min_runs=2,
    ),
    HistoryScenario(
        name="custom_tool_retry",
        description="a custom tool's sandbox crashes once; the activity retries and succeeds",
        agents=[_agent("fetcher", tools=["flaky_fetch"])],
        tools=_flaky_tool,
        replies=lambda ids: [
            say(ids["fetcher"], 0, "flaky_fetch", True, url="https://example.com"),
            say(ids["fetcher"], 1, "send_message", message="Fetched."),
        ],
        expect_agents={"completed": 1},
        expect_tool_attempts=2,
    ),
    HistoryScenario(
        name="requires_approval",
        description="the agent calls a tool that needs approval: it stops requires_approval",
        agents=[
            _agent(
                "careful",
                tools=["get_weather"],
                tool_rules=[{"type": "requires_approval", "tool_name": "get_weather"}],
            )
        ],
        tools=_weather_tool,
        replies=lambda ids: [say(ids["careful"], 0, "get_weather", city="Oslo")],
        expect_agents={"requires_approval": 1},
    ),
]

BY_NAME = {s.name: s for s in SCENARIOS}
