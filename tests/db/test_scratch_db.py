"""Scratch databases: created and migrated on demand, and only they can be dropped."""

from __future__ import annotations

import pytest

from letta_batch.db import migrate
from letta_batch.devtools.scratch_db import create_database, drop_database, scratch_database


async def test_scratch_database_is_migrated_and_dropped() -> None:
    async with scratch_database() as url:
        assert await migrate.current_revision_async(url) == migrate.head_revision()
    name = url.rsplit("/", 1)[1]
    with pytest.raises(Exception, match="does not exist"):
        await migrate.current_revision_async(url)
    assert name.startswith("lbrec_")


async def test_only_databases_with_the_prefix_can_be_dropped() -> None:
    with pytest.raises(ValueError, match="refusing to drop 'postgres'"):
        await drop_database("postgres", "lbtest_")
    name, _ = await create_database("lbtest_", migrate_to=None)
    await drop_database(name, "lbtest_")
