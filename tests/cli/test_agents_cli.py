"""``letta-batch agents load FILE`` and ``agents list``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from letta_batch import ids
from letta_batch.db import create_engine
from letta_batch.db import models as m
from tests.cli.storage_app import run
from tests.definitions.factories import agent, definitions

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "agents.yaml"


async def _agent_count(url: str, org_id: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            stmt = select(func.count()).where(m.agents.c.organization_id == org_id)
            return (await conn.execute(stmt)).scalar_one()
    finally:
        await engine.dispose()


@pytest.fixture
def env(sqlite_migrated_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": sqlite_migrated_url,
        "LETTA_BATCH_ORGANIZATION_ID": ids.new_id(ids.ORGANIZATION),
        "COLUMNS": "200",
    }


def test_load_example_then_list(env: dict[str, str]) -> None:
    code, out = run(env, "agents", "load", str(EXAMPLE))
    assert code == 0, out
    for name in ("weather-bot", "game-master", "summarizer", "get_weather", "roll_dice"):
        assert name in out
    assert "3 agents (3 created, 0 updated, 0 unchanged)" in out

    code, out = run(env, "agents", "load", str(EXAMPLE))
    assert code == 0 and "3 agents (0 created, 0 updated, 3 unchanged)" in out

    code, out = run(env, "agents", "list", "--json")
    assert code == 0, out
    listed = {a["name"]: a for a in json.loads(out)}
    assert set(listed) == {"weather-bot", "game-master", "summarizer"}
    assert "get_weather" in listed["weather-bot"]["tools"]
    assert listed["game-master"]["blocks"] == ["persona", "human", "scores"]
    assert listed["summarizer"]["model"] == "claude-opus-4-1"

    code, out = run(env, "agents", "list")
    assert code == 0 and "weather-bot" in out


def test_invalid_file_exits_1_and_writes_nothing(env: dict[str, str], tmp_path: Path) -> None:
    data = definitions(3)
    data["agents"].append(agent("broken", tools=["lookup_order", "nope"], timezone="Moon/Base"))
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    code, out = run(env, "agents", "load", str(path))
    assert code == 1
    assert "nothing was written" in out
    assert (
        "agents[3].tools[1]: 'nope' is not a defined, built-in or existing tool [agent 'broken']"
        in out
    )
    assert "agents[3].timezone: 'Moon/Base' is not an IANA timezone" in out
    url, org = env["DATABASE_URL"], env["LETTA_BATCH_ORGANIZATION_ID"]
    assert asyncio.run(_agent_count(url, org)) == 0


def test_json_file_and_syntax_errors(env: dict[str, str], tmp_path: Path) -> None:
    good = tmp_path / "agents.json"
    good.write_text(json.dumps(definitions(2)))
    code, out = run(env, "agents", "load", str(good))
    assert code == 0 and "2 agents (2 created" in out

    broken = tmp_path / "broken.json"
    broken.write_text('{"agents": [')
    code, out = run(env, "agents", "load", str(broken))
    assert code == 1 and "invalid JSON" in out

    code, out = run(env, "agents", "load", str(tmp_path / "missing.yaml"))
    assert code == 1 and "cannot read" in out


def test_unmigrated_database_is_reported(sqlite_url: str) -> None:
    code, out = run({"DATABASE_URL": sqlite_url}, "agents", "list")
    assert code == 1 and "db upgrade" in out
