"""``build``: the step's row, which every shard of the step creates unless one already did;
the next step's requests built from the previous step's converted turns."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select, update

from letta_batch.contracts import BuildRequestsInput, JobRef, SettleStepInput
from letta_batch.db.models_agents import MessageRow
from letta_batch.db.models_batch import LLMBatchItemRow, LLMBatchJobRow, RequestToolSetRow
from letta_batch.providers.anthropic.context_turns import ContextTurns, ids_digest
from letta_batch.providers.anthropic.request_builder import ConvertedHistory
from letta_batch.repositories.agents import load_agents, set_message_ids
from letta_batch.services import build, build_context, build_item, jobs, settle, submit
from letta_batch.services.build import create_step_row, llm_batch_id_for
from letta_batch.stepping.stored_request import join_tools
from tests.faults.small_batches import started_five_agent_job
from tests.providers.anthropic.sample import sample_agent
from tests.services.answered import five_agents_answered

NOW = datetime(2026, 11, 25, tzinfo=UTC)


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


async def _step_requests(ctx, llm_batch_id: str) -> dict[str, tuple]:
    async with ctx.session_factory() as session:
        rows = await session.execute(
            select(
                LLMBatchItemRow.agent_id,
                LLMBatchItemRow.request_body,
                RequestToolSetRow.tools,
                LLMBatchItemRow.request_tools_at,
                LLMBatchItemRow.context_turns,
            )
            .outerjoin(RequestToolSetRow, RequestToolSetRow.id == LLMBatchItemRow.request_tools_id)
            .where(LLMBatchItemRow.llm_batch_id == llm_batch_id)
        )
        return {
            agent_id: (join_tools(body, tools, at), turns)
            for agent_id, body, tools, at, turns in rows
        }


def _count_loaded_messages(monkeypatch) -> list[str]:
    """The ids of every message build loads from now on (appended as they are loaded)."""
    loaded: list[str] = []
    real_load = build_context.load_messages

    async def load(session, org_id, ids):
        ids = list(ids)
        loaded.extend(ids)
        return await real_load(session, org_id, ids)

    monkeypatch.setattr(build_context, "load_messages", load)
    return loaded


async def test_the_next_step_converts_only_new_messages_and_sends_what_the_whole_history_would(
    service_ctx, emulator, monkeypatch
) -> None:
    ctx = service_ctx
    org = ctx.settings.organization_id
    # The fixture's histories are short: keep their turns all the same.
    monkeypatch.setattr(build_item, "KEEP_TURNS_FROM", 0)
    ref, agents = await five_agents_answered(ctx, emulator)
    async with ctx.session_factory() as session:
        job_id = await session.scalar(
            select(LLMBatchJobRow.letta_batch_job_id).where(LLMBatchJobRow.id == ref.llm_batch_id)
        )
    await settle.settle_step(
        ctx, SettleStepInput(llm_batch_id=ref.llm_batch_id, organization_id=org, max_steps=2)
    )
    step0 = await _step_requests(ctx, ref.llm_batch_id)
    before = {a: ContextTurns.from_bytes(turns) for a, (_, turns) in step0.items()}
    assert all(turns is not None for turns in before.values())

    loaded = _count_loaded_messages(monkeypatch)
    arg = BuildRequestsInput(job_id=job_id, organization_id=org, step=1, max_steps=2)
    built = await build.build_requests(ctx, arg)
    with_prior = await _step_requests(ctx, built.llm_batch_id)
    # heart and child continue. heart loads its system message and the three messages its
    # step 0 left (assistant call, tool return, heartbeat), not the input step 0 converted;
    # child's custom call waits for the tool fan-out (not run here), so its history did not
    # grow: it loads its system message only.
    heart, child = agents[0], agents[1]
    assert built.request_count == len(with_prior) == 2
    assert len(loaded) == 4 + 1
    after = {a: ContextTurns.from_bytes(turns) for a, (_, turns) in with_prior.items()}
    assert after[heart].count == before[heart].count + 3
    assert after[child].count == before[child].count

    # The same step built again from the whole histories sends the same bytes.
    async with ctx.session_factory.begin() as session:
        await session.execute(delete(LLMBatchJobRow).where(LLMBatchJobRow.id == built.llm_batch_id))
    monkeypatch.setattr(ContextTurns, "from_bytes", classmethod(lambda cls, data: None))
    loaded.clear()
    again = await build.build_requests(ctx, arg)
    assert len(loaded) == 5 + 2
    assert await _step_requests(ctx, again.llm_batch_id) == with_prior


@pytest.mark.parametrize(("history", "kept"), [(16, True), (15, False), (40, True)])
def test_turns_are_kept_for_long_histories(history: int, kept: bool) -> None:
    builder = build_item.RoundBuilder(
        arg=BuildRequestsInput(job_id="job", organization_id="org", step=1, max_steps=2),
        llm_batch_id="batch",
        planner=None,  # type: ignore[arg-type]
        clock=lambda: NOW,
        now=NOW,
        job_inputs={},
        totals={},
        archival={},
    )
    ids = [f"message-{i}" for i in range(history)]
    turns = builder._kept_turns(sample_agent(), ids, ConvertedHistory(turns=[], called=frozenset()))
    assert (turns is not None) == kept
    if kept:
        stored = ContextTurns.from_bytes(turns)
        assert stored is not None and (stored.count, stored.digest) == (history, ids_digest(ids))


async def test_a_jobs_first_step_converts_only_what_came_after_an_earlier_jobs_turns(
    service_ctx, emulator, monkeypatch
) -> None:
    ctx = service_ctx
    org = ctx.settings.organization_id
    monkeypatch.setattr(build_item, "KEEP_TURNS_FROM", 0)
    ref, agents = await five_agents_answered(ctx, emulator)  # job A's step 0, collected
    await settle.settle_step(
        ctx, SettleStepInput(llm_batch_id=ref.llm_batch_id, organization_id=org, max_steps=2)
    )
    kept_a = {
        a: ContextTurns.from_bytes(t)
        for a, (_, t) in (await _step_requests(ctx, ref.llm_batch_id)).items()
    }
    job = await submit.submit_batch(
        ctx, org, {"requests": [{"agent_id": a, "input": "again"} for a in agents]}, max_steps=2
    )
    await jobs.start_job(ctx, JobRef(job_id=job.job_id, organization_id=org))
    async with ctx.session_factory() as session:
        ids_before = {
            a.id: a.message_ids for a in (await load_agents(session, org, agents)).values()
        }

    loaded = _count_loaded_messages(monkeypatch)
    arg = BuildRequestsInput(job_id=job.job_id, organization_id=org, step=0, max_steps=2)
    built = await build.build_requests(ctx, arg)
    first = await _step_requests(ctx, built.llm_batch_id)
    # Each agent whose history still starts with what job A's step converted loads its
    # system message and what came after (heart: the assistant call, tool return and
    # heartbeat of job A's step); the others load their whole history.
    expected = 0
    covered = []
    for agent_id, ids in ids_before.items():
        turns = kept_a[agent_id]
        assert turns is not None
        if turns.covers(model=turns.model, inner_thoughts=turns.inner_thoughts, message_ids=ids):
            covered.append(agent_id)
            expected += 1 + len(ids) - 1 - turns.count
        else:
            expected += len(ids)
    assert agents[0] in covered and len(ids_before[agents[0]]) - 1 - kept_a[agents[0]].count == 3
    assert len(loaded) == expected

    # The same step built again from the whole histories sends the same bytes: drop job B's
    # step (its items, input messages and message_ids), then build it without kept turns.
    item_ids = [build_item.batch_item_id_for(built.llm_batch_id, a) for a in agents]
    async with ctx.session_factory.begin() as session:
        await session.execute(delete(LLMBatchJobRow).where(LLMBatchJobRow.id == built.llm_batch_id))
        await session.execute(delete(MessageRow).where(MessageRow.batch_item_id.in_(item_ids)))
        await set_message_ids(session, org, ids_before)
    monkeypatch.setattr(ContextTurns, "from_bytes", classmethod(lambda cls, data: None))
    again = await build.build_requests(ctx, arg)
    assert await _step_requests(ctx, again.llm_batch_id) == first
