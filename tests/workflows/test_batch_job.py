"""End to end: BatchJobWorkflow on the dev server, real Postgres, the emulator over HTTP."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from letta_batch.client import LettaBatchClient
from letta_batch.contracts import BatchJobResult, PollSettings
from letta_batch.db.models_agents import AgentBlockRow, AgentRow, BlockRow, MessageRow
from letta_batch.db.models_batch import BatchJobAgentRow, LLMBatchItemRow, LLMBatchJobRow
from letta_batch.providers.emulator import EmulatorServer
from letta_batch.repositories.request_bodies import STORED_BODY_COLUMNS, whole_bodies
from letta_batch.services.runtime import ServiceContext
from tests.workflows.conftest import new_worker
from tests.workflows.scenario import (
    admin_batches,
    clear_scenario,
    definitions,
    load_agents,
    set_scenario,
    suffix,
    tool,
    two_step_rules,
)

FAST_POLL = PollSettings(initial_seconds=1, factor=1.0, max_seconds=1)


async def _run_job(
    env: WorkflowEnvironment,
    ctx: ServiceContext,
    agent_ids: list[str],
    max_steps: int,
    **kwargs: Any,
) -> tuple[str, BatchJobResult]:
    client = LettaBatchClient(env.client, ctx)
    job = await client.submit(
        {"requests": [{"agent_id": a, "input": f"Hello {i}"} for i, a in enumerate(agent_ids)]},
        max_steps=max_steps,
        poll=FAST_POLL,
        **kwargs,
    )
    async with new_worker(env.client, ctx):
        result = await asyncio.wait_for(client.wait(job.job_id), timeout=120)
    return job.job_id, result


async def _messages(ctx: ServiceContext, agent_id: str) -> list[MessageRow]:
    async with ctx.session_factory() as session:
        agent = await session.get(AgentRow, agent_id)
        assert agent is not None
        rows = {
            m.id: m
            for m in (
                await session.scalars(
                    select(MessageRow).where(MessageRow.id.in_(agent.message_ids))
                )
            ).all()
        }
        return [rows[i] for i in agent.message_ids]


def _shape(messages: list[MessageRow]) -> list[str]:
    out = []
    for m in messages:
        if m.role == "assistant" and m.tool_calls:
            out.append(f"assistant:{m.tool_calls[0]['function']['name']}")
        elif (
            m.role == "user" and m.content and '"type": "heartbeat"' in m.content[0].get("text", "")
        ):
            out.append("heartbeat")
        else:
            out.append(m.role)
    return out


async def test_multi_step_job_follows_tool_rules(
    temporal_env: WorkflowEnvironment, service_ctx: ServiceContext, emulator: EmulatorServer
) -> None:
    org = service_ctx.settings.organization_id
    ids = await load_agents(service_ctx, org, definitions(suffix(), extra_agents=1))
    heart, child, cond, loop = list(ids.values())
    set_scenario(
        emulator.base_url,
        [
            *two_step_rules(heart, child),
            tool(cond, 0, "classify", text="all calm", request_heartbeat=False),
            tool(cond, 1, "get_weather", city="Oslo", request_heartbeat=False),  # refused: calm
            tool(cond, 2, "send_message", message="Calm.", request_heartbeat=False),
            {
                "match": {"agent_id": loop},
                "reply": {
                    "tool": "conversation_search",
                    "input": {"query": "x", "request_heartbeat": True},
                },
            },
        ],
    )
    try:
        job_id, result = await _run_job(temporal_env, service_ctx, [heart, child, cond, loop], 3)
    finally:
        clear_scenario(emulator.base_url)

    assert result.status == "completed", result
    assert result.steps == 3
    async with service_ctx.session_factory() as session:
        outcomes = {
            r.agent_id: (r.status, r.stop_reason, r.steps)
            for r in (
                await session.scalars(
                    select(BatchJobAgentRow).where(BatchJobAgentRow.job_id == job_id)
                )
            ).all()
        }
        batches = (
            await session.scalars(
                select(LLMBatchJobRow)
                .where(LLMBatchJobRow.letta_batch_job_id == job_id)
                .order_by(LLMBatchJobRow.step)
            )
        ).all()
        human = await session.scalar(
            select(BlockRow.value)
            .join(AgentBlockRow, AgentBlockRow.block_id == BlockRow.id)
            .where(AgentBlockRow.agent_id == heart, BlockRow.label == "human")
        )
        stored = (
            await session.execute(
                select(*STORED_BODY_COLUMNS).where(
                    LLMBatchItemRow.agent_id == heart, LLMBatchItemRow.step == 1
                )
            )
        ).all()
        heart_step1 = next((body for _, body in await whole_bodies(session, stored)), None)
    assert outcomes[heart] == ("completed", "terminal_tool", 2)
    assert outcomes[child] == ("completed", "terminal_tool", 2)
    assert outcomes[cond] == ("completed", "terminal_tool", 3)
    assert outcomes[loop] == ("completed", "max_steps", 3)
    assert "Likes tea." in (human or "")

    # Exactly one provider batch per step, each created once at the provider.
    assert [b.step for b in batches] == [0, 1, 2]
    created = [b["id"] for b in admin_batches(emulator.base_url)]
    for b in batches:
        assert created.count(b.provider_batch_id) == 1

    assert _shape(await _messages(service_ctx, heart)) == [
        "system",
        "user",
        "assistant:memory_insert",
        "tool",
        "heartbeat",
        "assistant:send_message",
        "tool",
    ]
    assert _shape(await _messages(service_ctx, child)) == [
        "system",
        "user",
        "assistant:get_weather",
        "tool",
        "heartbeat",
        "assistant:send_message",
        "tool",
    ]
    cond_msgs = await _messages(service_ctx, cond)
    assert _shape(cond_msgs) == [
        "system",
        "user",
        "assistant:classify",
        "tool",
        "heartbeat",
        "assistant:get_weather",
        "tool",
        "heartbeat",
        "assistant:send_message",
        "tool",
    ]
    refusal = json.loads(cond_msgs[6].content[0]["text"])
    assert refusal["status"] == "Failed" and "not allowed" in refusal["message"]

    # The provider saw the previous turn on the next step: tool_use + tool_result pairing.
    assert heart_step1 is not None
    heart_step1 = json.loads(heart_step1)
    turns = heart_step1["messages"]
    uses = [
        b
        for t in turns
        if t["role"] == "assistant"
        for b in t["content"]
        if isinstance(b, dict) and b.get("type") == "tool_use"
    ]
    results = [
        b
        for t in turns
        if t["role"] == "user" and isinstance(t["content"], list)
        for b in t["content"]
        if b.get("type") == "tool_result"
    ]
    assert uses and results and uses[0]["id"] == results[0]["tool_use_id"]
    assert uses[0]["id"].startswith("toolu_")
    # The system prompt was compiled with memory (and the tool-rule block).
    assert "<memory_blocks>" in heart_step1["system"][0]["text"]


async def test_partial_failure_completes_with_failures(
    temporal_env: WorkflowEnvironment, service_ctx: ServiceContext, emulator: EmulatorServer
) -> None:
    org = service_ctx.settings.organization_id
    ids = await load_agents(service_ctx, org, definitions(suffix()))
    ok, errored, expired = list(ids.values())
    set_scenario(
        emulator.base_url,
        [
            tool(ok, 0, "send_message", message="hi", request_heartbeat=False),
            {
                "match": {"agent_id": errored},
                "reply": {"error": {"type": "overloaded_error", "message": "Overloaded"}},
            },
            {"match": {"agent_id": expired}, "reply": {"expired": True}},
        ],
    )
    try:
        job_id, result = await _run_job(temporal_env, service_ctx, [ok, errored, expired], 3)
    finally:
        clear_scenario(emulator.base_url)
    assert result.status == "completed_with_failures"
    async with service_ctx.session_factory() as session:
        rows = {
            r.agent_id: r
            for r in (
                await session.scalars(
                    select(BatchJobAgentRow).where(BatchJobAgentRow.job_id == job_id)
                )
            ).all()
        }
    assert (rows[ok].status, rows[ok].stop_reason) == ("completed", "terminal_tool")
    assert (rows[errored].status, rows[errored].stop_reason) == ("failed", "provider_error")
    assert "Overloaded" in (rows[errored].reason or "")
    assert (rows[expired].status, rows[expired].stop_reason) == ("failed", "expired")
