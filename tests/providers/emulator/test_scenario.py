"""Scripted replies from a scenario file (YAML and JSON) and the admin scenario endpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from letta_batch.providers.emulator import EmulatorServer, Scenario

from .helpers import admin, params, sync_client
from .test_model import HEARTBEAT_TOOL, TOOLS

SCENARIO_YAML = """
rules:
  - match: {agent_id: agent-1, step: 0}
    reply: {tool: send_message, input: {message: "scripted hi", request_heartbeat: false}}
  - match: {agent_id: agent-1, step: 1}
    reply: {text: "plain words"}
  - match: {agent_id: agent-2}
    reply: {error: {type: overloaded_error, message: "Overloaded"}}
  - match: {custom_id: "exp-*"}
    reply: {expired: true}
  - match: {custom_id: cancel-me}
    reply: {canceled: true}
  - match: {custom_id: refuse}
    reply: {stop_reason: refusal}
  - match: {custom_id: gen-input}
    reply: {tool: send_message, text: "calling", thinking: "hmm"}
  - match: {user_id: "agent-3:*"}
    reply: {tool_calls: [{tool: send_message, input: {message: a, request_heartbeat: true}},
                         {tool: archival_insert, input: {content: "x"}}]}
"""


def _item(custom_id: str, user_id: str | None = None) -> dict[str, Any]:
    extra: dict[str, Any] = {"tools": TOOLS}
    if user_id:
        extra["metadata"] = {"user_id": user_id}
    return {"custom_id": custom_id, "params": params(**extra)}


def _run(emu: EmulatorServer, items: list[dict[str, Any]]) -> dict[str, Any]:
    client = sync_client(emu)
    batch = client.messages.batches.create(requests=items)
    client.messages.batches.retrieve(batch.id)
    return {r.custom_id: r.result for r in client.messages.batches.results(batch.id)}


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_scenario_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"scenario{suffix}"
    data = yaml.safe_load(SCENARIO_YAML)
    path.write_text(json.dumps(data) if suffix == ".json" else SCENARIO_YAML)
    with EmulatorServer(scenario=path) as emu:
        rows = _run(emu, [
            _item("s0", "agent-1:0"), _item("s1", "agent-1:1:extra"), _item("s2", "agent-2:5"),
            _item("exp-1"), _item("cancel-me"), _item("refuse"), _item("gen-input"),
            _item("multi", "agent-3:9"), _item("free", "agent-9:0"),
        ])  # fmt: skip
    msg = rows["s0"].message
    assert [(b.type, b.name, b.input) for b in msg.content] == [
        ("tool_use", "send_message", {"message": "scripted hi", "request_heartbeat": False})
    ]
    assert msg.stop_reason == "tool_use"
    text = rows["s1"].message
    assert [(b.type, b.text) for b in text.content] == [("text", "plain words")]
    assert text.stop_reason == "end_turn"
    err = rows["s2"]
    assert err.type == "errored" and err.error.error.type == "overloaded_error"
    assert err.error.error.message == "Overloaded" and err.error.request_id.startswith("workerreq_")
    assert rows["exp-1"].type == "expired" and rows["cancel-me"].type == "canceled"
    refusal = rows["refuse"].message
    assert refusal.stop_reason == "refusal" and refusal.content == []
    assert refusal.stop_details is not None and refusal.stop_details.type == "refusal"
    gen = rows["gen-input"].message
    assert [b.type for b in gen.content] == ["thinking", "text", "tool_use"]
    assert set(gen.content[2].input) == {"message", "request_heartbeat"}
    multi = rows["multi"].message
    assert [b.name for b in multi.content] == ["send_message", "archival_insert"]
    assert rows["free"].type == "succeeded"  # unmatched: synthetic model


def test_counts_follow_scenario() -> None:
    with EmulatorServer(scenario=yaml.safe_load(SCENARIO_YAML)) as emu:
        client = sync_client(emu)
        batch = client.messages.batches.create(
            requests=[_item("s2", "agent-2:0"), _item("exp-9"), _item("cancel-me"), _item("z")]
        )
        counts = client.messages.batches.retrieve(batch.id).request_counts
        assert (counts.errored, counts.expired, counts.canceled, counts.succeeded) == (1, 1, 1, 1)
        summary = emu.batches()[0]
        assert summary["requests"][0] == {
            "custom_id": "s2", "user_id": "agent-2:0", "outcome": "errored",
        }  # fmt: skip


def test_admin_scenario_and_default(emu: EmulatorServer) -> None:
    admin(emu, "PUT", "/scenario", json={
        "rules": [{"match": {"agent_id": "a", "step": 2}, "reply": {"text": "step two"}}],
        "default": {"tool": "send_message", "input": {"message": "d", "request_heartbeat": True}},
    })  # fmt: skip
    rows = _run(emu, [_item("x", "a:2"), _item("y", "a:3")])
    assert rows["x"].message.content[0].text == "step two"
    assert rows["y"].message.content[0].input == {"message": "d", "request_heartbeat": True}
    assert admin(emu, "DELETE", "/scenario") == {"rules": [], "default": None}
    assert HEARTBEAT_TOOL["name"] == "send_message"


def test_custom_separator_and_key() -> None:
    scenario = Scenario.from_data(
        {
            "separator": "/",
            "rules": [{"match": {"agent_id": "ag", "step": 4}, "reply": {"text": "ok"}}],
        }
    )
    assert scenario.match("c", {"metadata": {"user_id": "ag/4"}}) == {"text": "ok"}
    assert scenario.match("c", {"metadata": {"user_id": "ag/5"}}) is None


@pytest.mark.parametrize(
    "bad",
    [
        {"rules": [{"match": {"nope": 1}, "reply": {"text": "x"}}]},
        {"rules": [{"match": {"custom_id": "a"}, "reply": {"weird": 1}}]},
        {"rules": [{"reply": {"text": "x"}}]},
        "not a mapping",
    ],
)
def test_bad_scenarios_rejected(emu: EmulatorServer, bad: Any) -> None:
    with pytest.raises(ValueError):
        Scenario.from_data(bad)
    assert httpx.put(f"{emu.admin_url}/scenario", json=bad).status_code == 400
