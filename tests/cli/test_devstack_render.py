"""Process management of the demo stack, and the CLI's renderings (no server needed)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from letta_batch.cli.demo import batch_payload, replicate_agents, search_attribute_flags
from letta_batch.cli.queries import StepCount, message_text
from letta_batch.cli.render import WatchSnapshot, agents_table, status_table, watch_view
from letta_batch.contracts import JobProgress, Phase
from letta_batch.devstack import (
    DevStack,
    ManagedProcess,
    ProcessGroup,
    StackConfig,
    StartupError,
    pid_alive,
    stale_pids,
    wait_for_port,
)

STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"


def test_sigterm_then_sigkill_and_pid_file(tmp_path: Path) -> None:
    group = ProcessGroup(tmp_path / "processes.json")
    polite = group.start(
        ManagedProcess(
            "polite", [sys.executable, "-c", "import time; time.sleep(60)"], tmp_path / "a.log"
        )
    )
    stubborn = group.start(
        ManagedProcess("stubborn", [sys.executable, "-c", STUBBORN], tmp_path / "b.log", stop_timeout=0.5)
    )  # fmt: skip
    time.sleep(0.3)  # let the stubborn child install its handler
    assert stale_pids(group.pid_file) == group.pids()
    started = time.monotonic()
    codes = group.stop_all()
    assert time.monotonic() - started < 10
    assert codes == {"stubborn": -9, "polite": -15}
    assert polite.pid is not None and stubborn.pid is not None
    assert not pid_alive(polite.pid) and not pid_alive(stubborn.pid)
    recorded = json.loads(group.pid_file.read_text())
    assert recorded["stopped"] is True and set(recorded["pids"]) == {"polite", "stubborn"}
    assert stale_pids(group.pid_file) == {}


def test_wait_for_port_fails_fast_when_the_child_dies(tmp_path: Path) -> None:
    proc = ManagedProcess("dies", [sys.executable, "-c", "print('bye')"], tmp_path / "d.log")
    proc.start()
    with pytest.raises(StartupError, match="exited before listening"):
        wait_for_port("127.0.0.1", 1, timeout=10, alive=proc.running, what="dies")
    proc.stop()
    assert "bye" in proc.log_tail()


def test_stack_command_lines(tmp_path: Path) -> None:
    flags = search_attribute_flags()
    assert flags == {"BatchJobId": "Keyword", "BatchPhase": "Keyword", "BatchStep": "Int",
                     "AgentCount": "Int", "BatchStatus": "Keyword"}  # fmt: skip
    stack = DevStack(StackConfig(state_dir=tmp_path, search_attributes=flags))
    argv = stack.temporal_argv()
    assert argv[1:3] == ["server", "start-dev"]
    assert "--search-attribute" in argv and "BatchStep=Int" in argv
    assert argv[argv.index("--db-filename") + 1] == str(tmp_path.resolve() / "temporal.db")
    assert len({stack.port, stack.ui_port, stack.emulator_port}) == 3
    env = stack.env()
    assert env["DATABASE_URL"].endswith(str(tmp_path.resolve() / "letta-batch.db"))
    assert env["ANTHROPIC_BASE_URL"] == f"http://127.0.0.1:{stack.emulator_port}"
    assert "ANTHROPIC_API_KEY" not in env


def test_demo_payload_replicates_templates() -> None:
    template = {"tools": [{"source_code": "x"}], "agents": [{"name": "a"}, {"name": "b"}]}
    definitions = replicate_agents(template, 5)
    assert [a["name"] for a in definitions["agents"]] == [
        "a-001",
        "b-002",
        "a-003",
        "b-004",
        "a-005",
    ]
    prompts = {"requests": [{"agent_id": "x", "input": "one"}, {"agent_id": "y", "messages": []}]}
    payload = batch_payload(["agent-1", "agent-2", "agent-3"], prompts)
    assert payload["requests"][2] == {"agent_id": "agent-3", "input": "one"}


def test_renderings() -> None:
    status = {
        "job_id": "job-1", "status": "running", "steps": 2, "max_steps": 10, "agent_count": 4,
        "agents": {"running": 3, "completed": 1}, "provider_batch_id": "msgbatch_1",
        "request_counts": {"processing": 3}, "tokens": {"input_tokens": 5, "output_tokens": 7},
        "created_at": None, "completed_at": None,
    }  # fmt: skip
    progress = JobProgress(job_id="job-1", step=1, phase=Phase.poll, polls=3, next_poll_seconds=9)
    console = Console(record=True, width=120)
    console.print(status_table(status, progress))
    steps = [
        StepCount(step=0, total=4, done=4, failed=1),
        StepCount(step=1, total=3, done=0, failed=0),
    ]
    console.print(watch_view(WatchSnapshot(status, steps, progress, next_poll_in=4.2)))
    row = {"name": "demo-1", "status": "completed", "stop_reason": "end_turn", "steps": 2,
           "last_assistant_message": "Hello there"}  # fmt: skip
    console.print(agents_table([row]))
    text = console.export_text()
    for expected in ("msgbatch_1", "in 5, out 7", "phase poll", "next poll in 4s",
                     "4/4 agents (1 failed)", "1/4 agents finished", "Hello there"):  # fmt: skip
        assert expected in text, expected


def test_message_text_prefers_send_message() -> None:
    call = {"id": "t", "function": {"name": "send_message", "arguments": '{"message": "hi"}'}}
    assert message_text("assistant", [{"type": "text", "text": "thinking"}], [call]) == "hi"
    other = {"id": "t", "function": {"name": "lookup_fact", "arguments": "{}"}}
    assert message_text("assistant", [], [other]) == "(calls lookup_fact)"
    assert message_text("user", [{"type": "text", "text": "yo"}], None) == "yo"
