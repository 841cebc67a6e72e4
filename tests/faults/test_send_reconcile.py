"""A lost create response is reconciled only with a batch that can only be ours.

A provider batch is recognised by its size and creation time alone (the API shows nothing
else before it ends). Reusing another job's same-sized batch would hand this step's agents
someone else's results, so send reuses a candidate only when it is unambiguous and otherwise
pays for a new batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
import pytest
from sqlalchemy import select

from letta_batch.contracts import BuildRequestsInput, JobRef, LLMBatchRef
from letta_batch.db.models_batch import LLMBatchItemRow
from letta_batch.providers.emulator import EmulatorServer
from letta_batch.providers.errors import ProviderError
from letta_batch.services import build, jobs, send, submit
from letta_batch.services.runtime import ServiceContext
from letta_batch.services.send import RECONCILE_SKEW
from tests.faults.conftest import clear_faults, set_faults
from tests.workflows.scenario import admin_batches, definitions, load_agents, suffix


async def _built_step(ctx: ServiceContext, agents: list[str]) -> LLMBatchRef:
    org = ctx.settings.organization_id
    job = await submit.submit_batch(
        ctx, org, {"requests": [{"agent_id": a, "input": "hi"} for a in agents]}, max_steps=2
    )
    await jobs.start_job(ctx, JobRef(job_id=job.job_id, organization_id=org))
    built = await build.build_requests(
        ctx, BuildRequestsInput(job_id=job.job_id, organization_id=org, step=0, max_steps=2)
    )
    return LLMBatchRef(llm_batch_id=built.llm_batch_id, organization_id=org)


#: How much earlier than the intent the foreign batch is created, in seconds.
OLDER = 2.5


async def _requests(prefix: str, n: int) -> AsyncIterator[tuple[str, bytes]]:
    for i in range(n):
        body = {
            "model": "claude-sonnet-4-5",
            "max_tokens": 16,
            "messages": [{"role": "user", "content": "hi"}],
        }
        yield f"{prefix}-{i}", orjson.dumps(body)


async def _item_ids(ctx: ServiceContext, ref: LLMBatchRef) -> set[str]:
    async with ctx.session_factory() as session:
        return set(
            (
                await session.scalars(
                    select(LLMBatchItemRow.id).where(
                        LLMBatchItemRow.llm_batch_id == ref.llm_batch_id
                    )
                )
            ).all()
        )


async def _send_failing(ctx: ServiceContext, emu: EmulatorServer, ref: LLMBatchRef, spec: str):
    """One send attempt under ``spec``: it fails retryably after recording its intent."""
    set_faults(emu.base_url, spec)
    try:
        with pytest.raises(ProviderError) as failed:
            await send.send_batch(ctx, ref)
        assert failed.value.retryable
    finally:
        assert all(r["times_remaining"] == 0 for r in clear_faults(emu.base_url))


async def test_an_older_batch_of_the_same_size_is_not_taken_for_the_lost_one(
    service_ctx: ServiceContext, emulator: EmulatorServer
) -> None:
    org = service_ctx.settings.organization_id
    # Another deployment on the same API key (or an earlier test) sent 3 requests just
    # before: a batch no database of ours records.
    foreign = await service_ctx.provider("anthropic").create_batch(_requests("other", 3))
    # A few seconds is far more than clocks synced by NTP differ: not a candidate any more.
    assert RECONCILE_SKEW.total_seconds() < OLDER
    await asyncio.sleep(OLDER)
    mine = await _built_step(
        service_ctx,
        list((await load_agents(service_ctx, org, definitions(suffix()))).values()),
    )
    await _send_failing(service_ctx, emulator, mine, "create:500:times=1")  # nothing created
    sent = await send.send_batch(service_ctx, mine)
    assert not sent.reused and sent.provider_batch_id != foreign.id
    at_provider = {x["id"]: set(x["custom_ids"]) for x in admin_batches(emulator.base_url)}
    assert at_provider[sent.provider_batch_id] == await _item_ids(service_ctx, mine)


async def test_a_concurrent_lost_create_of_the_same_size_is_not_taken(
    service_ctx: ServiceContext, emulator: EmulatorServer
) -> None:
    org = service_ctx.settings.organization_id
    first = list((await load_agents(service_ctx, org, definitions(suffix()))).values())
    second = list((await load_agents(service_ctx, org, definitions(suffix()))).values())
    a, b = await _built_step(service_ctx, first), await _built_step(service_ctx, second)
    # A's batch is created but its response lost; B's create fails before anything exists.
    await _send_failing(service_ctx, emulator, a, "create:lost:times=1")
    await _send_failing(service_ctx, emulator, b, "create:500:times=1")
    # B's retry sees A's batch (same size, just created) while A's intent is unanswered: it
    # cannot tell whose it is, so it creates its own. A's retry then finds its batch.
    sent_b = await send.send_batch(service_ctx, b)
    sent_a = await send.send_batch(service_ctx, a)
    assert not sent_b.reused and sent_a.reused
    at_provider = {x["id"]: set(x["custom_ids"]) for x in admin_batches(emulator.base_url)}
    for ref, sent in ((a, sent_a), (b, sent_b)):  # each step got the batch of its own items
        assert at_provider[sent.provider_batch_id] == await _item_ids(service_ctx, ref)
