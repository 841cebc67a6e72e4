"""Benchmark: one big batch through AnthropicBatchProvider against the emulator.

    uv run python bench/bench_emulator_batch.py [--requests 10000] [--in-process]

The emulator runs in a child process (processing 0 s) so the peak RSS and CPU reported for
the adapter are the adapter's own; wall times include the emulator's work (it validates and
answers every request), which dominates. Requests come from an async generator of stored-params bytes
(~8 KB each, built once by `build_request_params` for a realistic agent and varied per
request), as the batch activity streams them from the database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import resource
import socket
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from letta_batch.providers.anthropic import AnthropicBatchProvider, build_request_params
from letta_batch.providers.emulator import EmulatorServer
from tests.providers.anthropic.sample import (
    SYSTEM_TEXT,
    TOOLS,
    sample_agent,
    sample_history,
    terminal_names,
)

FILLER = "Chad likes hiking, espresso and long weather reports. " * 80  # ~4.3 KB of memory


def _serve(port: int) -> None:
    EmulatorServer(port=port, processing_seconds=0.0).serve_forever()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_admin/health", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("emulator did not start")


def template() -> tuple[bytes, float]:
    """Realistic params bytes with placeholders, and the builder's cost per request (s)."""
    agent = sample_agent()
    history = sample_history()
    history[0] = history[0].model_copy(
        update={
            "content": [history[0].content[0].model_copy(update={"text": SYSTEM_TEXT + FILLER})]
        }
    )
    names = terminal_names(agent)
    n = 500
    t0 = time.perf_counter()
    for _ in range(n):
        params = build_request_params(agent, history, TOOLS, terminal_tool_names=names, step=1)
    per_request = (time.perf_counter() - t0) / n
    params["messages"][0]["content"] = "__INPUT__"
    params["metadata"]["user_id"] = "__AGENT__:1"
    return json.dumps(params, separators=(",", ":")).encode(), per_request


async def requests(n: int, tpl: bytes) -> AsyncIterator[tuple[str, bytes]]:
    for i in range(n):
        body = tpl.replace(b"__AGENT__", f"agent-{i:08d}".encode())
        yield f"batch_item-{i:08d}", body.replace(b"__INPUT__", f"Question number {i}?".encode())
        if i % 500 == 0:
            await asyncio.sleep(0)  # as a DB cursor would yield to the loop


def peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0  # KiB on Linux


async def run(n: int, base_url: str) -> dict[str, float]:
    tpl, build_s = template()
    rss_before = peak_rss_mib()
    async with AnthropicBatchProvider(base_url=base_url, timeout=600.0) as provider:
        t0, c0 = time.perf_counter(), time.process_time()
        info = await provider.create_batch(requests(n, tpl))
        create_s, create_cpu = time.perf_counter() - t0, time.process_time() - c0
        t1 = time.perf_counter()
        for _ in range(12_000):  # up to 10 minutes
            info = await provider.retrieve_batch(info.id)
            if info.ended:
                break
            await asyncio.sleep(0.05)
        wait_s = time.perf_counter() - t1
        t2, c2 = time.perf_counter(), time.process_time()
        rows = ok = 0
        async for row in provider.results(info.id):
            rows += 1
            ok += row["result"]["type"] == "succeeded"
        results_s, results_cpu = time.perf_counter() - t2, time.process_time() - c2
    assert rows == n, (rows, n)
    return {
        "requests": n,
        "params_kb": len(tpl) / 1024,
        "build_ms": build_s * 1000,
        "create_s": create_s,
        "wait_s": wait_s,
        "results_s": results_s,
        "succeeded": ok,
        "create_cpu": create_cpu,
        "results_cpu": results_cpu,
        "rps": n / (create_s + wait_s + results_s),
        "rss_start": rss_before,
        "rss_peak": peak_rss_mib(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--in-process", action="store_true", help="run the emulator in this process")
    args = ap.parse_args()
    if args.in_process:
        with EmulatorServer(processing_seconds=0.0) as emu:
            r = asyncio.run(run(args.requests, emu.base_url))
    else:
        port = _free_port()
        child = mp.get_context("spawn").Process(target=_serve, args=(port,), daemon=True)
        child.start()
        try:
            _wait_healthy(f"http://127.0.0.1:{port}")
            r = asyncio.run(run(args.requests, f"http://127.0.0.1:{port}"))
        finally:
            child.terminate()
            child.join(10)
    rows = [
        ("requests", f"{r['requests']:,}"),
        ("params per request", f"{r['params_kb']:.1f} KiB"),
        ("build_request_params", f"{r['build_ms']:.2f} ms/request"),
        ("create (encode + upload), wall", f"{r['create_s']:.2f} s"),
        ("create, adapter CPU", f"{r['create_cpu']:.2f} s"),
        ("wait until ended", f"{r['wait_s']:.2f} s"),
        ("results (stream + decode), wall", f"{r['results_s']:.2f} s"),
        ("results, adapter CPU", f"{r['results_cpu']:.2f} s"),
        ("succeeded rows", f"{r['succeeded']:,}"),
        ("requests/s (create+wait+results)", f"{r['rps']:,.0f}"),
        ("adapter RSS before / peak", f"{r['rss_start']:.0f} / {r['rss_peak']:.0f} MiB"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"{'metric':<{width}}  value\n{'-' * width}  {'-' * 20}")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
