"""``build``: the step's row, which every shard of the step creates unless one already did."""

from __future__ import annotations

from sqlalchemy import select, update

from letta_batch.db.models_batch import LLMBatchJobRow
from letta_batch.services.build import create_step_row, llm_batch_id_for
from tests.faults.small_batches import started_five_agent_job


async def _step_rows(ctx, job_id: str) -> list[tuple[str, int]]:
    async with ctx.session_factory() as session:
        rows = await session.execute(
            select(LLMBatchJobRow.id, LLMBatchJobRow.step).where(
                LLMBatchJobRow.letta_batch_job_id == job_id
            )
        )
        return sorted(tuple(r) for r in rows)


async def test_a_row_for_the_same_job_and_step_is_skipped_whichever_constraint_meets_it(
    service_ctx,
) -> None:
    # Two shards inserting at the same moment both pass PostgreSQL's pre-check; the second
    # then meets the (job, step) constraint, which must arbitrate like the id's. Simulated
    # deterministically: the row already holds the step under another id.
    ctx = service_ctx
    org = ctx.settings.organization_id
    job_id, _ = await started_five_agent_job(ctx)
    async with ctx.session_factory.begin() as session:
        await create_step_row(session, org, job_id, 0, "anthropic")
        await session.execute(
            update(LLMBatchJobRow)
            .where(LLMBatchJobRow.id == llm_batch_id_for(job_id, 0))
            .values(id="llm_batch-other")
        )
    async with ctx.session_factory.begin() as session:
        await create_step_row(session, org, job_id, 0, "anthropic")
    assert await _step_rows(ctx, job_id) == [("llm_batch-other", 0)]
