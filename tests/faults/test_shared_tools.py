"""The ``tools`` array many requests share is stored once per shard and step, and put back
into every body the provider is sent (``stepping/stored_request.py``)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, select

from letta_batch.db.models_batch import LLMBatchItemRow, RequestToolSetRow
from letta_batch.repositories.request_bodies import STORED_BODY_COLUMNS, whole_bodies
from letta_batch.services import build
from letta_batch.services.runtime import ServiceContext
from tests.faults.small_batches import shard_build, started_five_agent_job


async def test_each_shard_stores_its_arrays_once_and_the_bodies_come_back_whole(
    split_ctx: ServiceContext,
) -> None:
    ctx = split_ctx
    job_id, _ = await started_five_agent_job(ctx)
    for index in range(2):
        await build.build_requests(ctx, shard_build(ctx, job_id, index))
    llm_batch_id = build.llm_batch_id_for(job_id, 0)
    async with ctx.session_factory() as session:
        tool_sets = dict(
            (
                await session.execute(
                    select(RequestToolSetRow.id, RequestToolSetRow.tools).where(
                        RequestToolSetRow.llm_batch_id == llm_batch_id
                    )
                )
            )
            .tuples()
            .all()
        )
        stored = (
            await session.execute(
                select(*STORED_BODY_COLUMNS, LLMBatchItemRow.part)
                .where(LLMBatchItemRow.llm_batch_id == llm_batch_id)
                .order_by(LLMBatchItemRow.id)
            )
        ).all()
        whole = dict(await whole_bodies(session, [r[:4] for r in stored]))
    assert len(stored) == 5 and all(r.request_tools_id in tool_sets for r in stored)
    # Shards never share a row (neither waits on the other's transaction to insert it)...
    shards_of = {}
    for r in stored:
        shards_of.setdefault(r.request_tools_id, set()).add(r.part % 2)
    assert all(len(s) == 1 for s in shards_of.values())
    # ...and within a shard, agents sending the same array share one.
    assert len(tool_sets) < len(stored)
    for r in stored:
        tools = tool_sets[r.request_tools_id]
        assert tools not in r.request_body
        params = json.loads(whole[r.id])
        assert params["tools"] == json.loads(tools)
        assert (
            whole[r.id]
            == r.request_body[: r.request_tools_at] + tools + r.request_body[r.request_tools_at :]
        )

    async with ctx.session_factory.begin() as session:
        await session.execute(
            delete(RequestToolSetRow).where(RequestToolSetRow.llm_batch_id == llm_batch_id)
        )
    async with ctx.session_factory() as session:
        with pytest.raises(RuntimeError, match="is not in request_tool_sets"):
            await whole_bodies(session, [r[:4] for r in stored])
