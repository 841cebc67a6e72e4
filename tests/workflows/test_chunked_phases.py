"""Every phase gives the same result whether a step fits one chunk or spans many, and
settle gives the same steps as decide → tools → persist.

Chunk sizes bound a worker's memory for 100,000-agent steps; here they are shrunk to 2 so
five agents cross every chunk boundary, and the outcome is compared with one-chunk runs.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from letta_batch.db import StatementCounter
from letta_batch.db.models_batch import BatchJobAgentRow, LLMBatchJobRow
from letta_batch.definitions import load_definitions
from letta_batch.devtools.direct_steps import run_steps
from letta_batch.repositories import list_agent_messages
from letta_batch.services import (
    build,
    collect,
    decide,
    item_chunks,
    persist,
    send,
    settle,
    submit,
    tools,
)
from tests.workflows.scenario import clear_scenario, set_scenario

AGENTS = 5
CHUNK_SETTINGS = [
    (build, "BUILD_CHUNK"),
    (send, "STREAM_CHUNK"),
    (collect, "WRITE_CHUNK"),
    (decide, "DECIDE_CHUNK"),
    (tools, "BUILTIN_CHUNK"),
    (persist, "PERSIST_CHUNK"),
    (settle, "SETTLE_CHUNK"),
    (item_chunks, "ID_PAGE"),
]


async def _run_job(
    service_ctx, emulator, *, three_phase: bool = False
) -> tuple[list[Any], dict[str, Any], int]:
    tag = uuid.uuid4().hex[:8]
    org = service_ctx.settings.organization_id
    data = {
        "agents": [
            {
                "name": f"chunk-{tag}-{i}",
                "model": "anthropic/claude-sonnet-4-5",
                "enable_reasoner": False,
                "memory_blocks": [{"label": "human", "value": f"User {i}.", "limit": 2000}],
            }
            for i in range(AGENTS)
        ]
    }
    async with service_ctx.session_factory.begin() as session:
        agent_ids = list((await load_definitions(session, org, data)).agent_ids.values())
    rules = [
        {
            "match": {"agent_id": agent_id, "step": 0},
            "reply": {
                "tool": "conversation_search",
                "input": {"query": "User", "request_heartbeat": True},
            },
        }
        for agent_id in agent_ids
    ] + [
        {
            "match": {"agent_id": agent_id},
            "reply": {"tool": "send_message", "input": {"message": f"bye {agent_id[-4:]}"}},
        }
        for agent_id in agent_ids
    ]
    set_scenario(emulator.base_url, rules)
    job = await submit.submit_batch(
        service_ctx,
        org,
        {"requests": [{"agent_id": a, "input": f"hi {a[-4:]}"} for a in agent_ids]},
        max_steps=3,
    )
    try:
        with StatementCounter(service_ctx.engine) as counter:
            batch_ids = await run_steps(
                service_ctx, org, job.job_id, 3, poll_pause=0.01, three_phase=three_phase
            )
    finally:
        clear_scenario(emulator.base_url)
    async with service_ctx.session_factory() as session:
        batches = (
            await session.execute(
                select(LLMBatchJobRow.step, LLMBatchJobRow.request_count, LLMBatchJobRow.status)
                .where(LLMBatchJobRow.id.in_(batch_ids))
                .order_by(LLMBatchJobRow.step)
            )
        ).all()
        statuses = dict(
            (
                await session.execute(
                    select(BatchJobAgentRow.agent_id, BatchJobAgentRow.status).where(
                        BatchJobAgentRow.job_id == job.job_id
                    )
                )
            ).all()
        )
        transcripts = {}
        for agent_id in agent_ids:
            history = await list_agent_messages(session, org, agent_id, limit=100)
            # ids and timestamps differ between jobs; roles and texts must not
            transcripts[agent_ids.index(agent_id)] = [
                (str(m.role), m.text().replace(agent_id[-4:], "<id>")[:60], bool(m.tool_calls))
                for _, m in history
                if str(m.role) != "system"
            ]
    outcome = {
        "batches": [tuple(b) for b in batches],
        "statuses": sorted(statuses.values()),
        "transcripts": transcripts,
    }
    return batch_ids, outcome, counter.count


@pytest.mark.parametrize("three_phase", [False, True], ids=["settle", "three-phase"])
@pytest.mark.parametrize("chunk", [2, AGENTS])
async def test_small_chunks_give_the_same_steps(
    service_ctx, emulator, monkeypatch, chunk, three_phase
) -> None:
    _, whole, whole_statements = await _run_job(service_ctx, emulator, three_phase=three_phase)
    for module, name in CHUNK_SETTINGS:
        monkeypatch.setattr(module, name, chunk)
    _, chunked, chunked_statements = await _run_job(service_ctx, emulator, three_phase=three_phase)

    assert whole["batches"] == [(0, AGENTS, "collected"), (1, AGENTS, "collected")]
    assert whole["statuses"] == ["completed"] * AGENTS
    roles = [r for r, _, _ in whole["transcripts"][0]]
    assert roles == ["user", "assistant", "tool", "user", "assistant", "tool"]
    assert chunked == whole
    if chunk < AGENTS:  # the chunks really were separate rounds of statements
        assert chunked_statements > whole_statements
    else:  # a step that exactly fills its one chunk costs no extra (empty) round
        assert chunked_statements == whole_statements


async def test_a_small_context_budget_splits_build_and_gives_the_same_steps(
    service_ctx, emulator, monkeypatch
) -> None:
    """Agents with long histories: build's rounds end at the message budget (here 4, so
    the 5 agents' contexts of 2 to 5 messages split every step into several rounds)."""
    _, whole, whole_statements = await _run_job(service_ctx, emulator)
    monkeypatch.setattr(build, "BUILD_CONTEXT_MESSAGES", 4)
    _, split, split_statements = await _run_job(service_ctx, emulator)
    assert split == whole
    assert split_statements > whole_statements


async def test_settle_gives_the_steps_of_decide_tools_persist(service_ctx, emulator) -> None:
    """One pass (jobs since the ``settle-step`` patch) or three (runs started before it):
    the same agents end the same way, with the same messages, in fewer statements."""
    _, three, three_statements = await _run_job(service_ctx, emulator, three_phase=True)
    _, one, one_statements = await _run_job(service_ctx, emulator)
    assert one == three
    assert one["statuses"] == ["completed"] * AGENTS
    assert one_statements < three_statements


def test_production_chunks_hold_thousands_of_agents() -> None:
    for module, name in CHUNK_SETTINGS:
        assert isinstance(getattr(module, name), int) and getattr(module, name) >= 1_000
