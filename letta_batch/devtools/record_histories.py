"""Record the replay corpus: run each scenario for real and export its workflow histories.

Client-side tooling (see ``letta_batch.devtools``): it imports ``temporalio``, the production
``workflows`` and ``activities``. Per recording it starts a local Temporal dev server (the
``temporal`` binary pinned by the lock file), a scratch PostgreSQL database, two emulators (one
that ends batches at once, one whose batches take an hour) and, per scenario, a real worker on
its own task queue. The histories of every run of the job workflow (continue-as-new included)
and of its ``ToolFanoutWorkflow`` children are written to ``<out>/<scenario>[-runN].json``;
the one-step job is also exported with ``temporal workflow show --output json``, the format
operators hand to ``letta-batch replay``.
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import func, select
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities.workers import process_workers
from letta_batch.client import LettaBatchClient, workflow_id_for
from letta_batch.config import Settings
from letta_batch.contracts import BatchJobResult, Phase, PollSettings
from letta_batch.db.engine import create_engine
from letta_batch.db.models_batch import ToolExecutionRow
from letta_batch.definitions import load_definitions
from letta_batch.devstack.stack import temporal_binary
from letta_batch.devtools.history_export import clear_stem, export_job
from letta_batch.devtools.history_scenarios import BY_NAME, SCENARIOS, HistoryScenario
from letta_batch.devtools.scratch_db import scratch_database
from letta_batch.providers.emulator import EmulatorServer
from letta_batch.services.runtime import ServiceContext
from workflows.search_attributes import ALL_KEYS

#: One-second polls keep the recording quick and the poll count per step stable.
FAST_POLL = PollSettings(initial_seconds=1, factor=1.0, max_seconds=1)
DEFAULT_OUT = Path("tests/histories")
#: Generous: the machine may be busy with other test runs.
JOB_TIMEOUT_SECONDS = 300.0


class RecordingError(RuntimeError):
    """A scenario did not end as it must; nothing was written for it."""


@dataclass
class Recorded:
    """What one scenario produced."""

    scenario: str
    result: BatchJobResult
    files: list[Path] = field(default_factory=list)


def select_scenarios(names: Sequence[str] | None) -> list[HistoryScenario]:
    """The named scenarios (all when ``names`` is empty); unknown names raise ``KeyError``."""
    if not names:
        return list(SCENARIOS)
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise KeyError(f"unknown scenario(s) {unknown}; known: {sorted(BY_NAME)}")
    return [BY_NAME[n] for n in names]


async def record_histories(
    out: Path = DEFAULT_OUT,
    names: Sequence[str] | None = None,
    *,
    tag: str = "",
    postgres: str | None = None,
) -> list[Recorded]:
    """Run the scenarios and write their histories under ``out``; returns what was written.

    ``tag`` is appended to the file stems (``one_step-<tag>.json``) so new recordings can sit
    next to kept older ones; ``postgres`` is ``host:port`` of a server with trust auth for
    user ``postgres`` (default ``$LETTA_BATCH_TEST_PG`` or 127.0.0.1:5432).
    """
    scenarios = select_scenarios(names)
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(temporal_binary()),
        # ALL_KEYS mixes key types, which mypy infers as list[object].
        search_attributes=cast("list[SearchAttributeKey[Any]]", ALL_KEYS),
    )
    try:
        async with scratch_database(postgres) as url:
            with (
                EmulatorServer(processing_seconds=0.0) as fast,
                EmulatorServer(processing_seconds=3600.0) as slow,
                tempfile.TemporaryDirectory(prefix="lb-record-") as work,
            ):
                recorded = []
                for scenario in scenarios:
                    emulator = slow if scenario.slow_provider else fast
                    recorded.append(
                        await _record(env.client, url, emulator, scenario, out, tag, Path(work))
                    )
                return recorded
    finally:
        await env.shutdown()


async def _record(
    client: Client,
    url: str,
    emulator: EmulatorServer,
    scenario: HistoryScenario,
    out: Path,
    tag: str,
    work: Path,
) -> Recorded:
    settings = Settings(
        database_url=url,
        anthropic_base_url=emulator.base_url,
        task_queue=f"record-{scenario.name}-{uuid.uuid4().hex[:8]}",
        batch_max_requests=scenario.batch_max_requests,
    )
    ctx = ServiceContext(engine=create_engine(url), settings=settings)
    try:
        ids = await _load_agents(ctx, scenario, work / scenario.name)
        emulator.set_scenario({"rules": scenario.replies(ids)})
        lb = LettaBatchClient(client, ctx)
        worker, shard_worker = process_workers(client, ctx, settings.task_queue)
        async with worker, shard_worker:
            job = await lb.submit(
                {"requests": [{"agent_id": a, "input": f"Hello {n}"} for n, a in ids.items()]},
                max_steps=scenario.max_steps,
                poll=FAST_POLL,
                event_budget=scenario.event_budget,
                shards=scenario.shards,
            )
            if scenario.cancel_in_poll:
                await _cancel_when_polling(lb, job.job_id)
            result = await asyncio.wait_for(lb.wait(job.job_id), timeout=JOB_TIMEOUT_SECONDS)
        await _check(lb, ctx, scenario, result, list(ids.values()))
        stem = scenario.name + (f"-{tag}" if tag else "")
        clear_stem(out, stem)
        wf_id = workflow_id_for(job.job_id)
        files = await export_job(client, wf_id, out, stem)
        if scenario.name == "one_step":
            cli_file = out / f"{stem}-cli-export.json"
            files.append(await asyncio.to_thread(_cli_export, client, wf_id, cli_file))
        return Recorded(scenario.name, result, files)
    finally:
        emulator.set_scenario(None)
        await ctx.aclose()


async def _load_agents(ctx: ServiceContext, scenario: HistoryScenario, work: Path) -> dict:
    """Load the scenario's tools and agents; returns the agent ids by scenario-local name."""
    agents = [{**a, "name": f"{scenario.name}-{a['name']}"} for a in scenario.agents]
    data = {"tools": scenario.tools(work), "agents": agents}
    async with ctx.session_factory.begin() as session:
        loaded = await load_definitions(session, ctx.settings.organization_id, data)
    return {a["name"]: loaded.agent_ids[f"{scenario.name}-{a['name']}"] for a in scenario.agents}


async def _cancel_when_polling(lb: LettaBatchClient, job_id: str) -> None:
    for _ in range(600):
        progress = await lb.progress(job_id)
        if progress is not None and progress.phase is Phase.poll and progress.polls >= 1:
            await lb.cancel(job_id, reason="recorded cancel during polling")
            return
        await asyncio.sleep(0.2)
    raise RecordingError(f"job {job_id} never reached the poll phase")


async def _check(
    lb: LettaBatchClient,
    ctx: ServiceContext,
    scenario: HistoryScenario,
    result: BatchJobResult,
    agent_ids: list[str],
) -> None:
    problems = []
    if result.status != scenario.expect_status:
        problems.append(f"status {result.status!r}, expected {scenario.expect_status!r}")
    if result.runs < scenario.min_runs:
        problems.append(f"{result.runs} run(s), expected at least {scenario.min_runs}")
    agents = (await lb.job_status(result.job_id))["agents"]
    if scenario.expect_agents and agents != scenario.expect_agents:
        problems.append(f"agents {agents}, expected {scenario.expect_agents}")
    if scenario.expect_tool_attempts is not None:
        async with ctx.session_factory() as session:
            attempts = await session.scalar(
                select(func.max(ToolExecutionRow.attempts)).where(
                    ToolExecutionRow.agent_id.in_(agent_ids)
                )
            )
        if attempts != scenario.expect_tool_attempts:
            problems.append(
                f"the tool ran {attempts} time(s), expected {scenario.expect_tool_attempts}"
            )
    if problems:
        raise RecordingError(f"{scenario.name}: " + "; ".join(problems))


def _cli_export(client: Client, workflow_id: str, path: Path) -> Path:
    """``temporal workflow show --output json``: the export operators replay."""
    argv = [
        str(temporal_binary()),
        "workflow",
        "show",
        "--address",
        client.service_client.config.target_host,
        "--namespace",
        client.namespace,
        "--workflow-id",
        workflow_id,
        "--output",
        "json",
    ]
    path.write_bytes(subprocess.run(argv, capture_output=True, check=True).stdout)
    return path
