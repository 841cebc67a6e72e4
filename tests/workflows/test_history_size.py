"""History stays small: events per step do not grow with agents; long jobs continue as new."""

from __future__ import annotations

import asyncio

from temporalio.testing import WorkflowEnvironment

from letta_batch.client import LettaBatchClient, workflow_id_for
from letta_batch.contracts import PollSettings
from letta_batch.providers.emulator import EmulatorServer
from letta_batch.services.runtime import ServiceContext
from tests.workflows.conftest import new_worker
from tests.workflows.scenario import clear_scenario, load_agents, set_scenario, suffix

FAST_POLL = PollSettings(initial_seconds=1, factor=1.0, max_seconds=1)
KEEP_SEARCHING = {
    "match": {"agent_id": "agent-*"},
    "reply": {"tool": "conversation_search", "input": {"query": "tea", "request_heartbeat": True}},
}


def _agents(tag: str, n: int) -> dict[str, object]:
    return {
        "agents": [
            {
                "name": f"h{i}-{tag}",
                "model": "anthropic/claude-sonnet-4-5",
                "enable_reasoner": False,
                "system": "You search.",
            }
            for i in range(n)
        ]
    }


async def _history_events(
    env: WorkflowEnvironment, ctx: ServiceContext, n: int, steps: int, event_budget: int = 8_000
) -> tuple[int, int, int]:
    """(events of the last run, total events over all runs, runs) for an n-agent job."""
    ids = await load_agents(ctx, ctx.settings.organization_id, _agents(suffix(), n))
    client = LettaBatchClient(env.client, ctx)
    job = await client.submit(
        {"requests": [{"agent_id": a, "input": "hi"} for a in ids.values()]},
        max_steps=steps,
        poll=FAST_POLL,
        event_budget=event_budget,
    )
    async with new_worker(env.client, ctx):
        result = await asyncio.wait_for(client.wait(job.job_id), timeout=240)
    assert result.status == "completed" and result.steps == steps
    total = 0
    last = 0
    async for wf in env.client.list_workflows(f"WorkflowId = '{workflow_id_for(job.job_id)}'"):
        history = await env.client.get_workflow_handle(wf.id, run_id=wf.run_id).fetch_history()
        total += len(history.events)
        last = len(history.events)
    return last, total, result.runs


async def test_events_per_step_do_not_depend_on_agent_count(
    temporal_env: WorkflowEnvironment, service_ctx: ServiceContext, emulator: EmulatorServer
) -> None:
    set_scenario(emulator.base_url, [KEEP_SEARCHING])
    try:
        small = await _history_events(temporal_env, service_ctx, 3, steps=2)
        large = await _history_events(temporal_env, service_ctx, 300, steps=2)
    finally:
        clear_scenario(emulator.base_url)
    assert small[0] == large[0], (small, large)


async def test_long_job_continues_as_new(
    temporal_env: WorkflowEnvironment, service_ctx: ServiceContext, emulator: EmulatorServer
) -> None:
    set_scenario(emulator.base_url, [KEEP_SEARCHING])
    try:
        last, _total, runs = await _history_events(
            temporal_env, service_ctx, 2, steps=30, event_budget=120
        )
    finally:
        clear_scenario(emulator.base_url)
    assert runs >= 4
    assert last <= 200
