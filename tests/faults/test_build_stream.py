"""Build copies its item rows while it builds them: a failure half-way leaves nothing.

Rows already sent to PostgreSQL when the error comes must go with the aborted COPY and the
rolled-back transaction, and a retry must build the step as if nothing had happened.
"""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select

from letta_batch.contracts import BuildRequestsInput
from letta_batch.db.models_agents import MessageRow
from letta_batch.db.models_batch import LLMBatchItemRow, RequestToolSetRow
from letta_batch.providers.anthropic.request_builder import ConvertedHistory
from letta_batch.services import build, build_item
from letta_batch.services.runtime import ServiceContext
from letta_batch.stepping.stored_request import StoredRequest
from tests.faults.small_batches import started_five_agent_job


async def test_a_build_that_fails_mid_copy_leaves_nothing_and_a_retry_builds_it(
    split_ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item rows are copied while they are built: an error on the fourth agent, with three
    rows already sent to PostgreSQL, must abort the COPY and roll the whole round back."""
    ctx = split_ctx
    org = ctx.settings.organization_id
    job_id, agents = await started_five_agent_job(ctx)
    arg = BuildRequestsInput(job_id=job_id, organization_id=org, step=0, max_steps=2)
    real = build_item.build_stored_request
    calls = []

    def failing(*args: object, **kwargs: object) -> tuple[StoredRequest, ConvertedHistory]:
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("renderer crashed on the fourth agent")
        stored, history = real(*args, **kwargs)  # type: ignore[arg-type]
        # 300 KB each: asyncpg sends COPY data in ~512 KB writes, so the first rows have
        # reached PostgreSQL by the time the fourth agent fails.
        body = stored.body[:-1] + b',"pad":"' + b"x" * 300_000 + b'"}'
        return dataclasses.replace(stored, body=body), history

    monkeypatch.setattr(build_item, "build_stored_request", failing)
    with pytest.raises(RuntimeError, match="fourth agent"):
        await build.build_requests(ctx, arg)
    llm_batch_id = build.llm_batch_id_for(job_id, 0)
    async with ctx.session_factory() as session:
        left = await session.scalar(
            select(func.count())
            .select_from(LLMBatchItemRow)
            .where(LLMBatchItemRow.llm_batch_id == llm_batch_id)
        )
        inputs = await session.scalar(
            select(func.count())
            .select_from(MessageRow)
            .where(MessageRow.batch_item_id.is_not(None), MessageRow.agent_id.in_(agents))
        )
        tool_sets = await session.scalar(
            select(func.count())
            .select_from(RequestToolSetRow)
            .where(RequestToolSetRow.llm_batch_id == llm_batch_id)
        )
    assert (left, inputs, tool_sets) == (0, 0, 0)

    monkeypatch.setattr(build_item, "build_stored_request", real)
    built = await build.build_requests(ctx, arg)
    assert (built.llm_batch_id, built.request_count, built.failed_count) == (llm_batch_id, 5, 0)
