"""Fixtures: Message Batches emulators and adapters pointed at them (nothing patched)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from letta_batch.config import Settings
from letta_batch.providers.anthropic import AnthropicBatchProvider
from letta_batch.providers.emulator import EmulatorServer


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    """Batches end on the first access after create (no key: the dummy key is sent)."""
    with EmulatorServer(processing_seconds=0.0) as server:
        yield server


@pytest.fixture(scope="module")
def slow_emu() -> Iterator[EmulatorServer]:
    """Batches stay in_progress for an hour of emulated time."""
    with EmulatorServer(processing_seconds=3600.0) as server:
        yield server


@pytest.fixture
async def provider(emu: EmulatorServer) -> AsyncIterator[AnthropicBatchProvider]:
    emu.set_faults(None)
    async with AnthropicBatchProvider(base_url=emu.base_url, settings=Settings()) as p:
        yield p


@pytest.fixture
async def slow_provider(slow_emu: EmulatorServer) -> AsyncIterator[AnthropicBatchProvider]:
    slow_emu.set_faults(None)
    async with AnthropicBatchProvider(api_key="sk-ant-test-slow", base_url=slow_emu.base_url) as p:
        yield p
