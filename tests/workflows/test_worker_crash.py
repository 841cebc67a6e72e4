"""A real worker process SIGKILLed at each phase; a fresh worker finishes the job.

After the restart every job completes with exactly one provider batch per step, no duplicated
message and no memory edit applied twice, and the agents end as in an uncrashed run.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from letta_batch import crashpoints
from letta_batch.client import LettaBatchClient
from letta_batch.contracts import PollSettings
from letta_batch.db.models_agents import AgentBlockRow, AgentRow, BlockRow, MessageRow
from letta_batch.db.models_batch import BatchJobAgentRow, LLMBatchItemRow, LLMBatchJobRow
from letta_batch.providers.emulator import EmulatorServer
from letta_batch.services.runtime import ServiceContext
from tests.workflows.conftest import ROOT, new_worker, worker_process_env
from tests.workflows.scenario import (
    admin_batches,
    clear_scenario,
    definitions,
    load_agents,
    set_scenario,
    suffix,
    two_step_rules,
)

FAST_POLL = PollSettings(initial_seconds=1, factor=1.0, max_seconds=1)
#: CI runs these; `make test-all` runs every point.
REPRESENTATIVE = {
    "send.before_create",
    "send.after_create",
    "settle.before_commit",
    "tools.after_chunk",
    "persist.after_commit",
}


#: Points also crashed in a job sharded two ways (both shards' activities in the killed
#: worker): one shard may have committed and the other not.
SHARDED = (
    "build.after_commit",
    "collect.after_stream",
    "settle.after_commit",
    "persist.after_commit",
)


def _point_params() -> list[object]:
    return [
        *(
            pytest.param(p, 1, id=p, marks=() if p in REPRESENTATIVE else pytest.mark.slow)
            for p in crashpoints.POINTS
        ),
        *(
            pytest.param(
                p, 2, id=f"{p}-2-shards", marks=() if p in REPRESENTATIVE else pytest.mark.slow
            )
            for p in SHARDED
        ),
    ]


def _start_worker(
    env: WorkflowEnvironment, ctx: ServiceContext, point: str, tmp: Path
) -> subprocess.Popen[bytes]:
    environ = {
        **worker_process_env(env, ctx),
        crashpoints.DIR_ENV: str(tmp),
        crashpoints.POINTS_ENV: point,
    }
    return subprocess.Popen(
        [sys.executable, str(ROOT / "worker.py"), "--log-level", "WARNING"],
        env=environ,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "worker.log", "wb"),
    )


async def _wait_reached(tmp: Path, point: str, proc: subprocess.Popen[bytes]) -> None:
    marker = tmp / f"{point}.reached"
    for _ in range(1800):  # generous: CI machines may be loaded
        if marker.exists():
            return
        assert proc.poll() is None, (tmp / "worker.log").read_text()[-3000:]
        await asyncio.sleep(0.1)
    raise AssertionError(
        f"worker never reached {point}: {(tmp / 'worker.log').read_text()[-3000:]}"
    )


@pytest.mark.parametrize(("point", "shards"), _point_params())
async def test_job_survives_worker_kill(
    point: str,
    shards: int,
    tmp_path: Path,
    temporal_env: WorkflowEnvironment,
    service_ctx: ServiceContext,
    emulator: EmulatorServer,
) -> None:
    org = service_ctx.settings.organization_id
    heart, child, _cond = (await load_agents(service_ctx, org, definitions(suffix()))).values()
    set_scenario(
        emulator.base_url,
        [
            *two_step_rules(heart, child),
        ],
    )
    client = LettaBatchClient(temporal_env.client, service_ctx)
    try:
        job = await client.submit(
            {"requests": [{"agent_id": a, "input": "hi"} for a in (heart, child)]},
            max_steps=4,
            poll=FAST_POLL,
            shards=shards,
        )
        proc = _start_worker(temporal_env, service_ctx, point, tmp_path)
        try:
            await _wait_reached(tmp_path, point, proc)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        async with new_worker(temporal_env.client, service_ctx):
            result = await asyncio.wait_for(client.wait(job.job_id), timeout=180)
    finally:
        clear_scenario(emulator.base_url)

    assert result.status == "completed", result
    async with service_ctx.session_factory() as session:
        outcomes = {
            r.agent_id: (r.status, r.stop_reason, r.steps)
            for r in (
                await session.scalars(
                    select(BatchJobAgentRow).where(BatchJobAgentRow.job_id == job.job_id)
                )
            ).all()
        }
        batches = (
            await session.scalars(
                select(LLMBatchJobRow).where(LLMBatchJobRow.letta_batch_job_id == job.job_id)
            )
        ).all()
        items = set(
            (
                await session.scalars(
                    select(LLMBatchItemRow.id).where(
                        LLMBatchItemRow.letta_batch_job_id == job.job_id
                    )
                )
            ).all()
        )
        human = await session.scalar(
            select(BlockRow.value)
            .join(AgentBlockRow, AgentBlockRow.block_id == BlockRow.id)
            .where(AgentBlockRow.agent_id == heart, BlockRow.label == "human")
        )
        message_ids = {a: (await session.get(AgentRow, a)).message_ids for a in (heart, child)}
        stored = (
            await session.scalars(
                select(MessageRow.id).where(MessageRow.agent_id.in_([heart, child]))
            )
        ).all()
    assert outcomes == {
        heart: ("completed", "terminal_tool", 2),
        child: ("completed", "terminal_tool", 2),
    }
    # Exactly one provider batch per step (per shard: each shard's agent is one part) was
    # created at the provider.
    ours = [b for b in admin_batches(emulator.base_url) if set(b["custom_ids"]) & items]
    assert len(batches) == 2 and len(ours) == 2 * shards, [b["id"] for b in ours]
    # Nothing duplicated: 7 messages each (system, input, call, return, heartbeat, call, return).
    for agent, ids in message_ids.items():
        assert len(ids) == len(set(ids)) == 7, (agent, ids)
    assert len(stored) == 14
    assert (human or "").count("Likes tea.") == 1
