"""Operating jobs: cancel during polling, the completion callback, what the UI shows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.testing import WorkflowEnvironment

from letta_batch.client import LettaBatchClient, workflow_id_for
from letta_batch.config import Settings
from letta_batch.contracts import Phase, PollSettings
from letta_batch.db.engine import create_engine
from letta_batch.db.models_batch import BatchJobAgentRow, BatchJobRow
from letta_batch.providers.emulator import EmulatorServer
from letta_batch.services.runtime import ServiceContext
from tests.workflows.conftest import new_worker
from tests.workflows.scenario import (
    clear_scenario,
    definitions,
    load_agents,
    set_scenario,
    suffix,
    tool,
)
from workflows import search_attributes as sa

FAST_POLL = PollSettings(initial_seconds=1, factor=1.0, max_seconds=1)


@pytest.fixture
async def slow_ctx(pg_url: str) -> AsyncIterator[tuple[ServiceContext, EmulatorServer]]:
    """A context whose provider takes an hour per batch (so a job sits in ``poll``)."""
    with EmulatorServer(processing_seconds=3600) as slow:
        settings = Settings(
            database_url=pg_url, anthropic_base_url=slow.base_url, task_queue=f"tq-slow-{suffix()}"
        )
        ctx = ServiceContext(engine=create_engine(pg_url), settings=settings)
        try:
            yield ctx, slow
        finally:
            await ctx.aclose()


async def test_cancel_during_polling(
    temporal_env: WorkflowEnvironment, slow_ctx: tuple[ServiceContext, EmulatorServer]
) -> None:
    ctx, slow = slow_ctx
    ids = await load_agents(ctx, ctx.settings.organization_id, definitions(suffix()))
    client = LettaBatchClient(temporal_env.client, ctx)
    job = await client.submit(
        {"requests": [{"agent_id": a, "input": "hi"} for a in ids.values()]},
        max_steps=5,
        poll=FAST_POLL,
    )
    async with new_worker(temporal_env.client, ctx):
        for _ in range(300):
            progress = await client.progress(job.job_id)
            if progress is not None and progress.phase is Phase.poll and progress.polls >= 1:
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError("job never reached the poll phase")
        assert (await client.job_status(job.job_id))["status"] == "running"
        cancelled = await client.cancel(job.job_id, reason="operator said stop")
        assert cancelled.accepted and cancelled.provider_batch_id
        result = await asyncio.wait_for(client.wait(job.job_id), timeout=120)
    assert result.status == "cancelled"
    status = await client.job_status(job.job_id)
    assert status["agents"] == {"cancelled": 3}
    provider = next(b for b in slow.batches() if b["id"] == cancelled.provider_batch_id)
    assert provider["status"] == "ended" and provider["request_counts"]["canceled"] == 3


@pytest.fixture
async def callback_server() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/done", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/done", received
    finally:
        await runner.cleanup()


async def test_callback_and_ui_metadata(
    temporal_env: WorkflowEnvironment,
    service_ctx: ServiceContext,
    emulator: EmulatorServer,
    callback_server: tuple[str, list[dict[str, Any]]],
) -> None:
    url, received = callback_server
    heart, child, _cond = (
        await load_agents(service_ctx, service_ctx.settings.organization_id, definitions(suffix()))
    ).values()
    set_scenario(
        emulator.base_url,
        [
            tool(heart, 0, "memory_insert", label="human", new_string="x", request_heartbeat=True),
            tool(heart, 1, "send_message", message="ok", request_heartbeat=False),
            tool(child, 0, "send_message", message="ok", request_heartbeat=False),
        ],
    )
    client = LettaBatchClient(temporal_env.client, service_ctx)
    try:
        job = await client.submit(
            {
                "requests": [{"agent_id": heart, "input": "a"}, {"agent_id": child, "input": "b"}],
                "callback_url": url,
            },
            max_steps=5,
            poll=FAST_POLL,
            event_budget=40,  # small: forces continue-as-new
        )
        async with new_worker(temporal_env.client, service_ctx):
            result = await asyncio.wait_for(client.wait(job.job_id), timeout=120)
            handle = temporal_env.client.get_workflow_handle(workflow_id_for(job.job_id))
            desc = await handle.describe()
            metadata = await handle.query(
                "__temporal_workflow_metadata", result_type=WorkflowMetadata
            )
    finally:
        clear_scenario(emulator.base_url)
    assert result.status == "completed" and result.steps == 2 and result.runs >= 2
    attrs = desc.typed_search_attributes
    assert attrs.get(sa.BATCH_JOB_ID) == job.job_id
    assert attrs.get(sa.BATCH_PHASE) == "done"
    assert attrs.get(sa.BATCH_STATUS) == "completed"
    assert attrs.get(sa.BATCH_STEP) == 2
    assert attrs.get(sa.AGENT_COUNT) == 2
    details = metadata.current_details
    assert f"### Batch job `{job.job_id}`" in details and "- **phase:** done" in details
    assert "continued as new" in details  # details are set again on the continued run
    # Callback: posted once with Letta's payload; the outcome is recorded on the job.
    assert [r["job_id"] for r in received] == [job.job_id]
    assert received[0]["status"] == "completed" and received[0]["completed_at"]
    async with service_ctx.session_factory() as session:
        row = await session.get(BatchJobRow, job.job_id)
        agents = (
            await session.scalars(
                select(BatchJobAgentRow.status).where(BatchJobAgentRow.job_id == job.job_id)
            )
        ).all()
    assert row is not None and row.callback_status_code == 200 and row.callback_error is None
    assert sorted(agents) == ["completed", "completed"]
