"""The worker and emulator processes run on the configured event loop."""

from __future__ import annotations

import asyncio

import pytest
import uvloop
from pydantic import ValidationError

from letta_batch import event_loop
from letta_batch.config import Settings


async def _loop_type() -> type:
    return type(asyncio.get_running_loop())


def test_uvloop_is_the_default() -> None:
    assert Settings.from_env({}).event_loop == "uvloop"
    assert event_loop.run(_loop_type(), "uvloop") is uvloop.Loop


def test_asyncio_keeps_the_standard_loop() -> None:
    loop_type = event_loop.run(_loop_type(), "asyncio")
    assert loop_type is not uvloop.Loop
    assert issubclass(loop_type, asyncio.BaseEventLoop)


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LETTA_BATCH_EVENT_LOOP", "asyncio")
    assert event_loop.run(_loop_type()) is not uvloop.Loop
    monkeypatch.setenv("LETTA_BATCH_EVENT_LOOP", "uvloop")
    assert event_loop.run(_loop_type()) is uvloop.Loop


def test_an_unknown_loop_is_refused_by_name() -> None:
    with pytest.raises(ValidationError) as err:
        Settings.from_env({"LETTA_BATCH_EVENT_LOOP": "trio"})
    assert "event_loop" in str(err.value) and "trio" in str(err.value)
