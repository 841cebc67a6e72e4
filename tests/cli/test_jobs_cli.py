"""CLI job commands against a real dev server and PostgreSQL.

Bad submissions: every case prints the request index, field and value, exits non-zero,
writes no row and starts no workflow. Valid ones: the job id is printed, the workflow
exists, re-submitting with the same idempotency key returns the same job.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from letta_batch import ids
from letta_batch.cli.main import app
from letta_batch.db import create_engine, session_factory
from letta_batch.db.models_agents import AgentRow, MessageRow
from letta_batch.db.models_batch import (
    BatchJobAgentRow,
    BatchJobInputRow,
    BatchJobRow,
    LLMBatchItemRow,
    LLMBatchJobRow,
)
from letta_batch.definitions import load_definitions
from letta_batch.devstack import free_port, temporal_binary
from workflows.search_attributes import ALL_KEYS

TABLES = [BatchJobRow, BatchJobAgentRow, BatchJobInputRow, LLMBatchJobRow, LLMBatchItemRow, MessageRow]  # fmt: skip
runner = CliRunner()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def temporal_address() -> AsyncIterator[str]:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(temporal_binary()),
        search_attributes=ALL_KEYS,
    )
    try:
        yield env.client.service_client.config.target_host
    finally:
        await env.shutdown()


@pytest_asyncio.fixture(loop_scope="session")
async def agents(pg_url: str, org_id: str) -> dict[str, str]:
    """A Claude agent (loaded from a definitions file) and a GPT agent (inserted directly,
    since definitions refuse models no provider serves)."""
    engine = create_engine(pg_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            loaded = await load_definitions(
                session, org_id,
                {"agents": [{"name": "cli-claude", "model": "anthropic/claude-haiku-4-5"}]},
            )  # fmt: skip
            gpt = ids.new_id(ids.AGENT)
            session.add(
                AgentRow(
                    id=gpt, organization_id=org_id, name="cli-gpt", agent_type="memgpt_v2_agent",
                    system="", llm_config={"model": "gpt-4o", "model_endpoint_type": "openai"},
                    tool_rules=[], message_ids=[],
                )
            )  # fmt: skip
    finally:
        await engine.dispose()
    return {"claude": loaded.agent_ids["cli-claude"], "gpt": gpt}


@pytest.fixture
def cli_env(pg_url: str, org_id: str, temporal_address: str) -> dict[str, str]:
    return {
        "DATABASE_URL": pg_url,
        "TEMPORAL_ADDRESS": temporal_address,
        "LETTA_BATCH_ORGANIZATION_ID": org_id,
        "LETTA_BATCH_TASK_QUEUE": f"cli-{uuid.uuid4().hex[:8]}",  # no worker polls it
        "ANTHROPIC_API_KEY": "",
    }


async def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            return {
                t.__tablename__: int(await session.scalar(select(func.count()).select_from(t)) or 0)
                for t in TABLES
            }
    finally:
        await engine.dispose()


async def _workflows(address: str, query: str | None = None) -> int:
    client = await Client.connect(address)
    return (await client.count_workflows(query)).count


def _user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def _bad_cases(a: dict[str, str]) -> dict[str, tuple[Any, list[str]]]:
    """Case name → (payload, substrings the error must contain: index/field and value)."""
    unknown = ids.new_id(ids.AGENT)
    one = {"agent_id": a["claude"], "messages": _user("hi")}
    return {
        "empty_requests": ({"requests": []}, ["requests", "0"]),
        "too_many_requests": ({"requests": [one] * 100_001}, ["requests", "100001"]),
        "unknown_agent": (
            {"requests": [one, {"agent_id": unknown, "input": "hi"}]},
            ["requests[1].agent_id", unknown],
        ),
        "same_agent_twice": ({"requests": [one, one]}, ["requests[1].agent_id", a["claude"]]),
        "empty_message": (
            {"requests": [{"agent_id": a["claude"], "messages": _user("  ")}]},
            ["requests[0].messages[0].content", "'  '"],
        ),
        "malformed_message": (
            {
                "requests": [
                    {"agent_id": a["claude"], "messages": [{"role": "robot", "content": "x"}]}
                ]
            },
            ["requests[0].messages[0]", "robot"],
        ),
        "no_messages": (
            {"requests": [{"agent_id": a["claude"], "messages": []}]},
            ["requests[0].messages", "[]"],
        ),
        "non_anthropic_model": (
            {"requests": [one, {"agent_id": a["gpt"], "input": "hi"}]},
            ["requests[1].agent_id", a["gpt"], "gpt-4o"],
        ),
        "bad_callback_url": (
            {"requests": [one], "callback_url": "ftp:/nowhere"},
            ["callback_url", "ftp:/nowhere"],
        ),
        "requests_not_a_list": ({"requests": "agent-1"}, ["requests", "agent-1"]),
        "agent_id_wrong_type": (
            {"requests": [{"agent_id": 42, "input": "hi"}]},
            ["requests[0].agent_id", "42"],
        ),
        "body_not_an_object": ([one], ["body", "expected a JSON object"]),
    }


CASES = list(_bad_cases({"claude": "agent-x", "gpt": "agent-y"}))


@pytest.mark.parametrize("case", CASES)
def test_bad_submission_is_refused_and_writes_nothing(
    case: str, agents: dict[str, str], cli_env: dict[str, str], tmp_path: Path
) -> None:
    payload, expected = _bad_cases(agents)[case]
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(payload))
    before = asyncio.run(_counts(cli_env["DATABASE_URL"]))
    workflows_before = asyncio.run(_workflows(cli_env["TEMPORAL_ADDRESS"]))

    result = runner.invoke(app, ["submit", str(path)], env=cli_env)

    assert result.exit_code == 2, result.output
    for text in expected:
        assert text in result.stderr, f"{text!r} not in {result.stderr!r}"
    assert result.stdout == ""
    assert asyncio.run(_counts(cli_env["DATABASE_URL"])) == before
    assert asyncio.run(_workflows(cli_env["TEMPORAL_ADDRESS"])) == workflows_before


@pytest.mark.parametrize(
    ("content", "expected"),
    [('{"requests": [', "invalid JSON at line 1"), ("", "invalid JSON"), ("\xff", "invalid")],
)
def test_malformed_file_is_refused(
    content: str, expected: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "batch.json"
    path.write_bytes(content.encode("latin-1"))
    before = asyncio.run(_counts(cli_env["DATABASE_URL"]))
    result = runner.invoke(app, ["submit", str(path)], env=cli_env)
    assert result.exit_code == 2
    assert expected in result.stderr
    assert asyncio.run(_counts(cli_env["DATABASE_URL"])) == before


def test_valid_submission_starts_one_workflow_per_idempotency_key(
    agents: dict[str, str], cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "batch.json"
    path.write_text(json.dumps({"requests": [{"agent_id": agents["claude"], "input": "hello"}]}))
    key = f"key-{uuid.uuid4().hex}"

    first = runner.invoke(
        app, ["submit", str(path), "--idempotency-key", key, "--json"], env=cli_env
    )
    assert first.exit_code == 0, first.output
    job = json.loads(first.stdout)
    assert job["created"] is True and job["agent_count"] == 1
    again = runner.invoke(app, ["submit", str(path), "--idempotency-key", key], env=cli_env)
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith(job["job_id"]) and "existing job" in again.stdout

    query = f"BatchJobId = '{job['job_id']}'"
    assert asyncio.run(_workflows(cli_env["TEMPORAL_ADDRESS"], query)) == 1

    listed = runner.invoke(app, ["jobs", "--json"], env=cli_env)
    assert listed.exit_code == 0, listed.output
    assert [j["job_id"] for j in json.loads(listed.stdout)] == [job["job_id"]]
    messages = runner.invoke(app, ["messages", job["job_id"], "--json"], env=cli_env)
    assert messages.exit_code == 0 and json.loads(messages.stdout) == []
    asyncio.run(_terminate(cli_env["TEMPORAL_ADDRESS"], job["job_id"]))
    status = runner.invoke(app, ["status", job["job_id"], "--json"], env=cli_env)
    assert status.exit_code == 0, status.output
    snap = json.loads(status.stdout)
    assert snap["agents"] == {"running": 1} and snap["live"] is None
    refused = runner.invoke(app, ["cancel", job["job_id"]], env=cli_env)
    assert refused.exit_code == 1 and "cancel refused" in refused.stderr


def test_missing_file_or_job(cli_env: dict[str, str], tmp_path: Path) -> None:
    missing = runner.invoke(app, ["submit", str(tmp_path / "nope.json")], env=cli_env)
    assert missing.exit_code == 2 and "cannot read file" in missing.stderr
    unknown = runner.invoke(app, ["status", ids.new_id(ids.JOB)], env=cli_env)
    assert unknown.exit_code == 1 and "no job" in unknown.stderr


def test_reads_work_without_temporal(cli_env: dict[str, str], agents: dict[str, str]) -> None:
    offline = {**cli_env, "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}"}
    listed = runner.invoke(app, ["jobs", "--json"], env=offline)
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []
    assert "cannot reach Temporal" in listed.stderr and "stored state only" in listed.stderr
    watched = runner.invoke(app, ["watch", ids.new_id(ids.JOB)], env=offline)
    assert watched.exit_code == 1 and "cannot reach Temporal" in watched.stderr


async def _terminate(address: str, job_id: str) -> None:
    client = await Client.connect(address)
    await client.get_workflow_handle(f"batch-{job_id}").terminate("test: no worker")
