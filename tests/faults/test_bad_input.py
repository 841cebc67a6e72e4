"""Bad input: every case is refused with a message naming the field and the value, and
nothing is written (rows in every table counted before and after; no workflow started).

Entry points: ``LettaBatchClient.submit`` (the Python API), the CLI (malformed files) and
``load_definitions`` (agent and tool definitions). The CLI's own bad-payload cases and the
validator's unit cases live in tests/cli and tests/definitions; these are different ones.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from letta_batch import ids
from letta_batch.cli.main import app
from letta_batch.client import LettaBatchClient
from letta_batch.db.base import Base
from letta_batch.db.models_agents import AgentRow
from letta_batch.definitions import DefinitionError, load_definitions
from letta_batch.services.runtime import ServiceContext
from letta_batch.services.submit import SubmissionError
from tests.definitions.factories import agent, custom_tool
from tests.faults.conftest import SuiteStats

runner = CliRunner()


async def _rows(ctx: ServiceContext) -> dict[str, int]:
    """Rows in every table of the schema."""
    async with ctx.session_factory() as session:
        return {
            t.name: int(await session.scalar(select(func.count()).select_from(t)) or 0)
            for t in Base.metadata.sorted_tables
        }


async def _workflows(env: WorkflowEnvironment, ctx: ServiceContext) -> int:
    query = f"TaskQueue = '{ctx.settings.task_queue}'"
    return (await env.client.count_workflows(query)).count


@pytest.fixture
async def known(service_ctx: ServiceContext) -> dict[str, str]:
    """Two Claude agents of the job's organization, one of another organization, and a
    Gemini agent (inserted directly: definitions refuse models no provider serves)."""
    org = service_ctx.settings.organization_id
    tag = ids.new_id(ids.AGENT)[-8:]
    async with service_ctx.session_factory.begin() as session:
        ours = await load_definitions(
            session, org, {"agents": [agent(f"bad-a-{tag}", tools=[], tool_rules=[]),
                                      agent(f"bad-b-{tag}", tools=[], tool_rules=[])]},
        )  # fmt: skip
        other = await load_definitions(
            session, ids.new_id(ids.ORGANIZATION),
            {"agents": [agent(f"bad-other-{tag}", tools=[], tool_rules=[])]},
        )  # fmt: skip
        gemini = ids.new_id(ids.AGENT)
        session.add(
            AgentRow(
                id=gemini, organization_id=org, name=f"bad-gemini-{tag}",
                agent_type="memgpt_v2_agent", system="", tool_rules=[], message_ids=[],
                llm_config={"model": "gemini-2.0-flash", "model_endpoint_type": "google_ai"},
            )
        )  # fmt: skip
    a, b = ours.agent_ids.values()
    return {"a": a, "b": b, "other": next(iter(other.agent_ids.values())), "gemini": gemini}


def _submissions(k: dict[str, str]) -> dict[str, tuple[Any, dict[str, Any], list[str]]]:
    """name → (payload, submit keyword arguments, substrings the error must contain)."""
    a, b = k["a"], k["b"]
    never = ids.new_id(ids.AGENT)
    ok = {"agent_id": a, "input": "hi"}
    user = [{"role": "user", "content": "x"}]
    return {
        "agent_of_another_org": (
            {"requests": [ok, {"agent_id": k["other"], "input": "hi"}]}, {},
            ["requests[1].agent_id", "unknown agent", k["other"]]),
        "agent_never_created": (
            {"requests": [ok, {"agent_id": b, "input": "x"}, {"agent_id": never, "input": "x"}]},
            {}, ["requests[2].agent_id", never]),
        "duplicate_agent_input_and_messages": (
            {"requests": [ok, {"agent_id": b, "input": "x"}, {"agent_id": a, "messages": user}]},
            {}, ["requests[2].agent_id", a, "already in requests[0]"]),
        "empty_input": (
            {"requests": [{"agent_id": a, "input": ""}]}, {},
            ["requests[0].input.content", "must not be empty", "''"]),
        "blank_text_parts": (
            {"requests": [{"agent_id": a, "messages": [
                {"role": "user", "content": [{"type": "text", "text": "   "}]}]}]}, {},
            ["requests[0].messages[0].content", "must not be empty", "'   '"]),
        "messages_is_an_object": (
            {"requests": [{"agent_id": a, "messages": user[0]}]}, {},
            ["requests[0].messages", "non-empty list", "{'role': 'user'"]),
        "request_is_a_string": (
            {"requests": [ok, a]}, {}, ["requests[1]", "expected an object", repr(a)]),
        "agent_id_null": (
            {"requests": [{"agent_id": None, "input": "hi"}]}, {},
            ["requests[0].agent_id", "None"]),
        "agent_id_is_a_job_id": (
            {"requests": [{"agent_id": a.replace("agent-", "job-"), "input": "hi"}]}, {},
            ["requests[0].agent_id", a.replace("agent-", "job-")]),
        "role_is_a_number": (
            {"requests": [{"agent_id": a, "messages": [{"role": 7, "content": "x"}]}]}, {},
            ["requests[0].messages[0].role", "'role': 7"]),
        "input_is_a_number": (
            {"requests": [{"agent_id": a, "input": 5}]}, {},
            ["requests[0].input", "valid string", "got 5"]),
        "messages_and_input_both": (
            {"requests": [{"agent_id": a, "input": "x", "messages": user}]}, {},
            ["requests[0]", "exactly one of 'messages' or 'input'"]),
        "callback_url_is_a_number": (
            {"requests": [ok], "callback_url": 42}, {}, ["callback_url", "got 42"]),
        "callback_url_without_host": (
            {"requests": [ok], "callback_url": "http://"}, {}, ["callback_url", "'http://'"]),
        "callback_url_javascript": (
            {"requests": [ok], "callback_url": "javascript:alert(1)"}, {},
            ["callback_url", "'javascript:alert(1)'"]),
        "misspelled_requests_key": (
            {"request": [ok]}, {}, ["request: unknown field", "requests: expected a list, got None"]),
        "oversized_120000_requests": (
            {"requests": [ok] * 120_000}, {}, ["requests", "at most 100000", "got 120000"]),
        "gemini_agent": (
            {"requests": [ok, {"agent_id": k["gemini"], "input": "hi"}]}, {},
            ["requests[1].agent_id", k["gemini"], "'gemini-2.0-flash'", "google_ai"]),
        # more ids than one statement can bind (asyncpg: 32,767): one array parameter instead
        "forty_thousand_unknown_agents": (
            {"requests": [{"agent_id": ids.new_id(ids.AGENT), "input": "x"} for _ in range(40_000)]},
            {}, ["requests[0].agent_id: unknown agent", "requests[39999].agent_id"]),
        "max_steps_zero": ({"requests": [ok]}, {"max_steps": 0}, ["max_steps", "got 0"]),
        "max_steps_is_a_string": (
            {"requests": [ok]}, {"max_steps": "10"}, ["max_steps", "got '10'"]),
        "idempotency_key_is_a_number": (
            {"requests": [ok]}, {"idempotency_key": 1234}, ["idempotency_key", "got 1234"]),
        "every_problem_at_once": (
            {"requests": [ok, ok, {"agent_id": never, "input": "x"}, {"agent_id": b, "input": " "}],
             "callback_url": "x"}, {},
            [f"requests[1].agent_id: {a!r} already in requests[0]",
             f"requests[2].agent_id: unknown agent {never!r}",
             "requests[3].input.content", "callback_url", "'x'"]),
    }  # fmt: skip


SUBMISSIONS = list(_submissions({"a": "agent-a", "b": "agent-b", "other": "o", "gemini": "g"}))


@pytest.mark.parametrize("case", SUBMISSIONS)
async def test_bad_submission(
    case: str,
    known: dict[str, str],
    temporal_env: WorkflowEnvironment,
    service_ctx: ServiceContext,
    suite_stats: SuiteStats,
) -> None:
    payload, kwargs, expected = _submissions(known)[case]
    client = LettaBatchClient(temporal_env.client, service_ctx)
    before = await _rows(service_ctx)
    with pytest.raises(SubmissionError) as info:
        await client.submit(payload, **kwargs)
    message = str(info.value)
    for text in expected:
        assert text in message, f"{text!r} not in {message!r}"
    assert await _rows(service_ctx) == before
    assert await _workflows(temporal_env, service_ctx) == 0


# --- malformed files through the CLI -------------------------------------------------------

FILES = {
    "submit_trailing_comma": (
        ["submit"], "batch.json",
        '{\n  "requests": [\n    {"agent_id": "agent-x", "input": "hi"},\n  ]\n}', 2,
        ["invalid JSON at line 4 column 3", "Expecting value"]),
    "submit_python_dict": (
        ["submit"], "batch.json", "{'requests': []}", 2,
        ["invalid JSON at line 1 column 2", "double quotes"]),
    "submit_two_documents": (
        ["submit"], "batch.json", '{"requests": []}\n{"requests": []}', 2,
        ["invalid JSON at line 2 column 1", "Extra data"]),
    "definitions_yaml_tab": (
        ["agents", "load"], "agents.yaml", "agents:\n\t- name: x\n", 1,
        ["invalid YAML", "line 2, column 1"]),
    "definitions_json_unclosed": (
        ["agents", "load"], "agents.json", '{"agents": [{"name": "x"}', 1,
        ["invalid JSON", "line 1, column 26"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(FILES))
async def test_malformed_file(
    case: str,
    tmp_path: Path,
    temporal_env: WorkflowEnvironment,
    service_ctx: ServiceContext,
    suite_stats: SuiteStats,
) -> None:
    command, name, content, code, expected = FILES[case]
    path = tmp_path / name
    path.write_text(content)
    env = {
        "DATABASE_URL": service_ctx.settings.database_url,
        "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "LETTA_BATCH_TASK_QUEUE": service_ctx.settings.task_queue,
        "COLUMNS": "250",  # rich must not wrap the lines we look for
    }
    before = await _rows(service_ctx)
    result = runner.invoke(app, [*command, str(path)], env=env)
    assert result.exit_code == code, result.output
    for text in expected:
        assert text in result.stderr, f"{text!r} not in {result.stderr!r}"
    assert await _rows(service_ctx) == before
    assert await _workflows(temporal_env, service_ctx) == 0


# --- agent and tool definitions ------------------------------------------------------------


def _schema(parameters: Any) -> dict[str, Any]:
    return custom_tool(json_schema={"name": "lookup_order", "parameters": parameters})


DEFINITIONS: dict[str, tuple[Any, list[str]]] = {
    "schema_properties_is_a_list": (
        {"tools": [_schema({"type": "object", "properties": ["order_id"]})]},
        ["tools[0].json_schema.parameters.properties", "got ['order_id']"]),
    "schema_property_is_a_string": (
        {"tools": [_schema({"type": "object", "properties": {"order_id": "string"}})]},
        ["tools[0].json_schema.parameters.properties.order_id", "got 'string'"]),
    "schema_required_is_a_string": (
        {"tools": [_schema({"type": "object", "properties": {"order_id": {"type": "string"}},
                            "required": "order_id"})]},
        ["tools[0].json_schema.parameters.required", "got 'order_id'"]),
    "schema_is_a_string": (
        {"tools": [custom_tool(json_schema="lookup_order(order_id)")]},
        ["tools[0].json_schema", "'lookup_order(order_id)'"]),
    "source_bad_indentation": (
        {"tools": [custom_tool(source_code="def lookup_order(x: str) -> str:\nreturn x\n")]},
        ["tools[0].source_code", "does not parse", "(line 2)"]),
    "source_null_byte": (
        {"tools": [custom_tool(source_code="def lookup_order(x: str):\n  return x\x00")]},
        ["tools[0].source_code", "does not parse", "null bytes"]),
    "source_lambda_only": (
        {"tools": [{"name": "lookup_order", "source_code": "lookup_order = lambda x: x"}]},
        ["tools[0].source_code", "'lookup_order'", "defines: none"]),
    "rule_names_defined_but_unattached_tool": (
        {"tools": [custom_tool(), custom_tool("ship_order")],
         "agents": [agent("a", tool_rules=[{"type": "run_first", "tool_name": "ship_order"}])]},
        ["agents[0].tool_rules[0].tool_name", "'ship_order'", "not a tool of agent 'a'"]),
    "rule_names_unknown_tool": (
        {"tools": [custom_tool()], "agents": [agent("a", tool_rules=[
            {"type": "max_count_per_step", "tool_name": "web_search", "max_count_limit": 2}])]},
        ["agents[0].tool_rules[0].tool_name", "'web_search'"]),
    "conditional_mapping_null": (
        {"tools": [custom_tool()], "agents": [agent("a", tool_rules=[
            {"type": "conditional", "tool_name": "lookup_order", "child_output_mapping": None}])]},
        ["agents[0].tool_rules[0].child_output_mapping", "got None"]),
    "conditional_mapping_list_of_names": (
        {"tools": [custom_tool()], "agents": [agent("a", tool_rules=[
            {"type": "conditional", "tool_name": "lookup_order",
             "child_output_mapping": ["send_message"]}])]},
        ["agents[0].tool_rules[0].child_output_mapping", "'send_message'"]),
    "gemini_llm_config": (
        {"agents": [agent("a", tools=[], tool_rules=[], model=None, llm_config={
            "model": "gemini-2.0-flash", "model_endpoint_type": "google_ai",
            "context_window": 100000})]},
        ["agents[0].llm_config.model_endpoint_type", "'google_ai'"]),
    "mistral_model": (
        {"agents": [agent("a", tools=[], tool_rules=[], model="mistral/mistral-large")]},
        ["agents[0].model", "'mistral/mistral-large'"]),
    "agents_is_an_object": (
        {"agents": {"name": "a", "model": "claude-x"}},
        ["agents: must be a list", "'name': 'a'"]),
    "agent_name_is_a_number": (
        {"agents": [agent(7, tools=[], tool_rules=[])]}, ["agents[0].name", "got 7"]),
    "tool_tags_is_a_string": (
        {"tools": [custom_tool(tags="orders")]}, ["tools[0].tags", "got 'orders'"]),
    "tool_rules_is_a_string": (
        {"agents": [agent("a", tools=[], tool_rules="send_message")]},
        ["agents[0].tool_rules", "got 'send_message'"]),
    "good_agent_next_to_bad_tool": (
        {"tools": [custom_tool(source_code="def lookup_order(:\n")],
         "agents": [agent("ok", tools=[], tool_rules=[])]},
        ["tools[0].source_code", "does not parse"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(DEFINITIONS))
async def test_bad_definitions(
    case: str, service_ctx: ServiceContext, suite_stats: SuiteStats
) -> None:
    data, expected = DEFINITIONS[case]
    data = copy.deepcopy(data)  # the loader gets its own dicts, never the module's table
    before = await _rows(service_ctx)
    with pytest.raises(DefinitionError) as info:
        async with service_ctx.session_factory.begin() as session:
            await load_definitions(session, service_ctx.settings.organization_id, data)
    message = str(info.value)
    for text in expected:
        assert text in message, f"{text!r} not in {message!r}"
    assert await _rows(service_ctx) == before
