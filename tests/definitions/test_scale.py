"""Scale: loading and reading back 10 or 10,000 agents costs the same number of statements."""

from __future__ import annotations

import json
import time
from pathlib import Path

from sqlalchemy import func, select

from letta_batch import ids
from letta_batch.db import StatementCounter
from letta_batch.db import models as m
from letta_batch.definitions import load_definitions, read_definitions_file
from letta_batch.repositories import load_agents, load_in_context_messages
from tests.definitions.factories import definitions


async def _load_and_read(engine, factory, path: Path, n: int) -> tuple[int, int, float]:
    org_id = ids.new_id(ids.ORGANIZATION)
    raw = read_definitions_file(path)
    started = time.perf_counter()
    async with factory() as session, session.begin():
        with StatementCounter(engine) as load_counter:
            result = await load_definitions(session, org_id, raw)
    assert len(result.agents) == n and {e.status for e in result.agents} == {"created"}
    async with factory() as session:
        with StatementCounter(engine) as read_counter:
            agents = await load_agents(session, org_id, result.agent_ids.values())
            context = await load_in_context_messages(session, org_id, agents.values())
        total_blocks = (
            await session.execute(select(func.count()).where(m.blocks.c.organization_id == org_id))
        ).scalar_one()
    elapsed = time.perf_counter() - started
    assert len(agents) == n and all(len(msgs) == 1 for msgs in context.values())
    sample = agents[result.agent_ids[f"agent-{n - 1:05d}"]]
    assert len(sample.tools) == 9 and len(sample.tool_rules) == 2 + 8  # own + base defaults
    assert total_blocks == 2 * n + n // 2
    return load_counter.count, read_counter.count, elapsed


async def test_statement_count_independent_of_agent_count(
    engine, session_factory, tmp_path
) -> None:
    measured = {}
    for n in (10, 10_000):
        path = tmp_path / f"agents-{n}.json"
        path.write_text(json.dumps(definitions(n)))
        measured[n] = await _load_and_read(engine, session_factory, path, n)
    (load_10, read_10, _), (load_10k, read_10k, seconds) = measured[10], measured[10_000]
    assert load_10 == load_10k
    assert read_10 == read_10k == 6  # load_agents: 5, in-context messages: 1
    print(f"statements: load {load_10k}, read {read_10k}; 10k agents in {seconds:.1f}s")
