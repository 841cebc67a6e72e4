"""What build reads besides the agents: recall and archival counts for the memory metadata."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from letta_batch.db import create_engine
from letta_batch.repositories import insert_messages
from letta_batch.services.build_inputs import recall_counts
from letta_batch.tools.builtin.archival import insert_passages, plan_passage
from tests.repositories.helpers import seed, user_message

NOW = datetime(2026, 11, 24, tzinfo=UTC)
#: agent index → tags of each of its passages (the third agent has none).
PASSAGES = {0: [["tea", "home"], ["tea"], []], 1: [["work"]]}


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
async def test_recall_counts_count_messages_and_summarise_passages(
    dialect, pg_url, sqlite_migrated_url
) -> None:
    engine = create_engine(pg_url if dialect == "postgresql" else sqlite_migrated_url)
    factory = async_sessionmaker(engine, expire_on_commit=False)
    org = f"org-recall-{dialect}"
    try:
        agents = list((await seed(factory, org, count=3)).values())
        async with factory() as session, session.begin():
            await insert_messages(
                session,
                org,
                [
                    user_message(agents[0], f"hi {i}", f"message-recall-{dialect}-{i}")
                    for i in range(4)
                ],
            )
            await insert_passages(
                session,
                [
                    plan_passage(
                        org_id=org,
                        agent_id=agents[a],
                        item_id=f"item-{dialect}-{a}",
                        call_id=f"call-{i}",
                        now=NOW,
                        content=f"text {i}",
                        tags=tags,
                    )
                    for a, lists in PASSAGES.items()
                    for i, tags in enumerate(lists)
                ],
            )
        async with factory() as session:
            totals, archival = await recall_counts(session, org, agents)
    finally:
        await engine.dispose()
    # Each agent has its system message; the first has four more.
    assert totals == {agents[0]: 5, agents[1]: 1, agents[2]: 1}
    assert archival == {agents[0]: (["home", "tea"], 3), agents[1]: (["work"], 1)}
