"""Fixtures: a fresh emulator per test and SDK clients pointed at it (nothing patched)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anthropic
import pytest

from letta_batch.providers.emulator import EmulatorServer

from .helpers import async_client, sync_client


@pytest.fixture
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def slow_emu() -> Iterator[EmulatorServer]:
    """Batches stay in_progress for an hour of emulated time unless forced."""
    with EmulatorServer(processing_seconds=3600) as server:
        yield server


@pytest.fixture
def client(emu: EmulatorServer) -> Iterator[anthropic.Anthropic]:
    with sync_client(emu) as c:
        yield c


@pytest.fixture
async def aclient(emu: EmulatorServer) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with async_client(emu) as c:
        yield c
