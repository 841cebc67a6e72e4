"""The CLI entry point in a real subprocess, the in-process helpers, and larger batches."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import anthropic
import httpx
import pytest
import typer
from typer.testing import CliRunner

from letta_batch.cli.emulator import emulator
from letta_batch.providers.emulator import EmulatorServer

from .helpers import params, requests_for, sync_client

CLI = "import typer; from letta_batch.cli.emulator import emulator; typer.run(emulator)"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cli_help_lists_options() -> None:
    app = typer.Typer()
    app.command("emulator")(emulator)
    app.command("other")(lambda: None)
    result = CliRunner().invoke(app, ["emulator", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--processing-seconds", "--scenario", "--faults"):
        assert option in result.output


def test_cli_serves_the_sdk(tmp_path: Path) -> None:
    port = _free_port()
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps([{"match": {"custom_id": "a"}, "reply": {"text": "from file"}}]))
    cmd = [sys.executable, "-c", CLI, "--port", str(port), "--scenario", str(scenario),
           "--faults", "list:529:times=1", "--api-key", "sk-cli"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/_admin/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        client = anthropic.Anthropic(base_url=base, api_key="sk-cli", max_retries=0)
        with pytest.raises(anthropic.OverloadedError):
            client.messages.batches.list()
        batch = client.messages.batches.create(requests=[{"custom_id": "a", "params": params()}])
        client.messages.batches.retrieve(batch.id)
        [row] = list(client.messages.batches.results(batch.id))
        assert row.result.type == "succeeded"
        assert row.result.message.content[0].text == "from file"  # type: ignore[union-attr]
    finally:
        proc.terminate()
        proc.wait(10)


def test_in_process_helpers() -> None:
    with EmulatorServer(processing_seconds=60) as emu:
        client = sync_client(emu)
        batch = client.messages.batches.create(requests=requests_for(2))
        emu.force_end(batch.id)
        assert client.messages.batches.retrieve(batch.id).processing_status == "ended"
        other = client.messages.batches.create(requests=requests_for(2))
        emu.force_expire(other.id)
        assert client.messages.batches.retrieve(other.id).request_counts.expired == 2
        emu.set_scenario({"default": {"text": "same for all"}})
        third = client.messages.batches.create(requests=requests_for(1))
        emu.advance(61)
        [row] = list(client.messages.batches.results(third.id))
        assert row.result.message.content[0].text == "same for all"  # type: ignore[union-attr]
        assert [b["num_requests"] for b in emu.batches(requests=False)] == [2, 2, 1]
        emu.reset()
        assert emu.batches() == []
    with pytest.raises(RuntimeError):
        EmulatorServer(host="256.0.0.1").start()


def test_thousands_of_rows_stream_in_chunks(
    emu: EmulatorServer, client: anthropic.Anthropic
) -> None:
    batch = client.messages.batches.create(requests=requests_for(3000))
    client.messages.batches.retrieve(batch.id)
    seen = {row.custom_id for row in client.messages.batches.results(batch.id)}
    assert len(seen) == 3000


@pytest.mark.slow
def test_100k_requests() -> None:
    with EmulatorServer() as emu:
        big = json.dumps({"requests": requests_for(100_000)}).encode()
        resp = httpx.post(f"{emu.base_url}/v1/messages/batches", content=big, timeout=600)
        assert resp.status_code == 200
        batch_id = resp.json()["id"]
        client = sync_client(emu, timeout=600)
        counts = client.messages.batches.retrieve(batch_id).request_counts
        assert counts.succeeded == 100_000
        lines = 0
        url = f"{emu.base_url}/v1/messages/batches/{batch_id}/results"
        with httpx.stream("GET", url, timeout=600) as stream:
            for line in stream.iter_lines():
                assert line
                lines += 1
        assert lines == 100_000
