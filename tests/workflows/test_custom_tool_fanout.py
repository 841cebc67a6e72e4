"""1,000 agents call a custom tool in one step: the job's history stays small, each tool runs once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from letta_batch.client import LettaBatchClient, workflow_id_for
from letta_batch.contracts import PollSettings
from letta_batch.providers.emulator import EmulatorServer
from letta_batch.services.runtime import ServiceContext
from tests.workflows.conftest import new_worker
from tests.workflows.scenario import clear_scenario, load_agents, set_scenario, suffix

AGENTS = 1_000
RECORD_SOURCE = '''
def record(note: str) -> str:
    """Append one line to a file named by this call's idempotency key.

    Args:
        note (str): Anything.
    """
    import os
    key = os.environ["LETTA_TOOL_IDEMPOTENCY_KEY"].replace(":", "_")
    with open(os.path.join(os.environ["RECORD_DIR"], key), "a") as f:
        f.write(note + "\\n")
    return "recorded"
'''


async def test_thousand_custom_tool_calls_in_one_step(
    tmp_path: Path,
    temporal_env: WorkflowEnvironment,
    service_ctx: ServiceContext,
    emulator: EmulatorServer,
) -> None:
    tag = suffix()
    data = {
        "tools": [
            {
                "source_code": RECORD_SOURCE,
                "execution": {"env": {"RECORD_DIR": str(tmp_path)}, "timeout_seconds": 60},
            }
        ],
        "agents": [
            {
                "name": f"rec{i}-{tag}",
                "model": "anthropic/claude-sonnet-4-5",
                "enable_reasoner": False,
                "system": "You record.",
                "tools": ["record"],
            }
            for i in range(AGENTS)
        ],
    }
    ids = await load_agents(service_ctx, service_ctx.settings.organization_id, data)
    set_scenario(
        emulator.base_url,
        [
            {
                "match": {"agent_id": "agent-*"},
                "reply": {"tool": "record", "input": {"note": "x", "request_heartbeat": False}},
            }
        ],
    )
    client = LettaBatchClient(temporal_env.client, service_ctx)
    try:
        job = await client.submit(
            {"requests": [{"agent_id": a, "input": "go"} for a in ids.values()]},
            max_steps=2,
            poll=PollSettings(initial_seconds=1, factor=1.0, max_seconds=1),
        )
        async with new_worker(temporal_env.client, service_ctx, max_concurrent_activities=64):
            result = await asyncio.wait_for(client.wait(job.job_id), timeout=900)
    finally:
        clear_scenario(emulator.base_url)
    assert result.status == "completed" and result.agents_completed == AGENTS
    history = await temporal_env.client.get_workflow_handle(
        workflow_id_for(job.job_id)
    ).fetch_history()
    assert len(history.events) < 2_000
    lines = _record_lines(tmp_path)
    assert len(lines) == AGENTS
    assert set(lines.values()) == {"x\n"}  # each call ran exactly once


def _record_lines(directory: Path) -> dict[str, str]:
    return {f.name: f.read_text() for f in directory.iterdir()}
