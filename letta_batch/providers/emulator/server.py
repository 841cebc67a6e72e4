"""Run the emulator: in a background thread (tests) or in the foreground (CLI).

    with EmulatorServer(processing_seconds=0) as emu:
        client = anthropic.Anthropic(base_url=emu.base_url, api_key="test")
        ...
        assert len(emu.batches()) == 1

The server owns its own event loop in a daemon thread, so it serves sync and async clients
alike (`async with EmulatorServer() as emu:` works too). In-process helpers (`batches`,
`advance`, `set_faults`, `reset`, …) run on that loop, mirroring the `/_admin` endpoints.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from letta_batch import event_loop

from .app import build_app
from .config import EmulatorConfig
from .faults import FaultRule, FaultSet, parse_faults
from .scenario import Scenario
from .state import STATE_KEY, EmulatorState

log = logging.getLogger(__name__)
T = TypeVar("T")
ScenarioSource = Scenario | str | Path | dict[str, Any] | list[Any] | None
FaultSource = str | list[Any] | dict[str, Any] | list[FaultRule] | None


def _fault_rules(faults: FaultSource) -> list[FaultRule]:
    if isinstance(faults, list) and all(isinstance(f, FaultRule) for f in faults) and faults:
        return list(faults)
    return parse_faults(faults)


class EmulatorServer:
    """A running (or startable) Message Batches emulator bound to host:port."""

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        processing_seconds: float | None = None,
        scenario: ScenarioSource = None,
        faults: FaultSource = None,
        *,
        config: EmulatorConfig | None = None,
        **overrides: Any,
    ) -> None:
        # Explicit arguments win over `config`; None keeps the config's value
        # (defaults: 127.0.0.1, port 0 = ephemeral, processing_seconds 0).
        given = {"host": host, "port": port, "processing_seconds": processing_seconds}
        overrides.update({k: v for k, v in given.items() if v is not None})
        self.config = dataclasses.replace(config or EmulatorConfig(), **overrides)
        self.app = build_app(
            self.config,
            scenario=Scenario.load(scenario),
            faults=FaultSet(_fault_rules(faults)),
        )
        self.port = self.config.port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    @property
    def state(self) -> EmulatorState:
        """The live state (touch it only through `call` from other threads)."""
        return self.app[STATE_KEY]

    @property
    def base_url(self) -> str:
        """What to pass as `base_url` to the anthropic SDK."""
        return f"http://{self.config.host}:{self.port}{self.config.clean_prefix}"

    @property
    def admin_url(self) -> str:
        """Base of the control API."""
        return f"http://{self.config.host}:{self.port}/_admin"

    async def _main(self, on_ready: Callable[[], None] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.config.host, self.config.port)
            await site.start()
            self.port = int(runner.addresses[0][1])
            log.info("anthropic batches emulator listening on %s", self.base_url)
            self._ready.set()
            if on_ready is not None:
                on_ready()
            await self._stop.wait()
        finally:
            await runner.cleanup()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # surfaced to start() / stop()
            self._error = exc
            self._ready.set()

    def start(self, timeout: float = 10.0) -> EmulatorServer:
        """Start serving in a daemon thread; returns once the port is bound."""
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name="anthropic-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or self._error is not None:
            raise RuntimeError(f"emulator failed to start: {self._error!r}")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server thread (idempotent)."""
        if self._thread is None:
            return
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)
        self._thread = None

    def serve_forever(self, on_ready: Callable[[], None] | None = None) -> None:
        """Serve in the calling thread until interrupted (used by the CLI)."""
        try:
            # A process of its own: the configured loop (uvloop by default), as the worker's.
            event_loop.run(self._main(on_ready))
        except KeyboardInterrupt:
            log.info("emulator stopped")

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> EmulatorServer:
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the server's loop (thread-safe access to the state)."""
        if self._loop is None or self._thread is None:
            return fn()

        async def run() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(30)

    def batches(self, *, requests: bool = True) -> list[dict[str, Any]]:
        """Same as `GET /_admin/batches`: every batch ever created, oldest first."""
        store = self.state.store
        return self.call(lambda: [store.summary(b, requests=requests) for b in store.order])

    def advance(self, seconds: float) -> None:
        """Advance the emulated clock."""
        self.call(lambda: self.state.clock.advance(seconds))

    def set_faults(self, faults: FaultSource, *, replace: bool = True) -> None:
        """Install fault rules (compact string, JSON form or FaultRule list)."""
        rules = _fault_rules(faults)

        def apply() -> None:
            if replace:
                self.state.faults.clear()
            self.state.faults.add(rules)

        self.call(apply)

    def set_scenario(self, scenario: ScenarioSource) -> None:
        """Replace the scenario used for batches created from now on."""
        loaded = Scenario.load(scenario)
        self.call(lambda: setattr(self.state, "scenario", loaded))

    def force_end(self, batch_id: str) -> None:
        """End a batch now."""
        self.call(lambda: self.state.store.force_end(batch_id))

    def force_expire(self, batch_id: str, *, all_requests: bool = True) -> None:
        """Expire a batch now."""
        self.call(lambda: self.state.store.force_expire(batch_id, all_requests=all_requests))

    def reset(self) -> None:
        """Forget batches, faults, request log and clock offset."""
        self.call(self.state.reset)
