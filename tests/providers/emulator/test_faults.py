"""Fault injection: SDK retry behaviour, lost responses, outcome fractions, stream faults."""

from __future__ import annotations

import json
import time

import anthropic
import httpx
import httpx2  # the transport of anthropic 2.x
import pytest

from letta_batch.providers.emulator import EmulatorServer, parse_faults

from .helpers import admin, async_client, requests_for, sync_client


def _log(emu: EmulatorServer, endpoint: str) -> list[dict[str, object]]:
    return [e for e in admin(emu, "GET", "/requests")["data"] if e["endpoint"] == endpoint]


def test_parse_compact_and_json() -> None:
    rules = parse_faults(
        "create:429:retry-after=2:times=1,retrieve:500:times=2,results:errored_fraction=0.1"
    )
    assert [(r.endpoint, r.kind, r.status, r.times) for r in rules] == [
        ("create", "status", 429, 1),
        ("retrieve", "status", 500, 2),
        ("results", "errored_fraction", None, None),
    ]
    assert rules[0].param("retry-after") == 2 and rules[2].param("errored_fraction") == 0.1
    same = parse_faults(json.dumps([{"endpoint": "create", "kind": "lost", "mode": "drop"}]))
    assert same[0].kind == "lost" and same[0].param("mode") == "drop" and same[0].times == 1
    assert parse_faults({"rules": [{"endpoint": "*", "status": 529, "times": 0}]})[0].times is None
    for bad in ("create", "nowhere:500", "create:explode"):
        with pytest.raises(ValueError):
            parse_faults(bad)


def test_429_retry_after_ms_is_honoured() -> None:
    with EmulatorServer(faults="create:429:retry-after-ms=300") as emu:
        client = sync_client(emu, max_retries=2)
        started = time.monotonic()
        client.messages.batches.create(requests=requests_for(1))
        assert 0.3 <= time.monotonic() - started < 3
        log = _log(emu, "create")
        assert [(e["status"], e["retry_count"]) for e in log] == [(429, "0"), (200, "1")]
        assert len(emu.batches()) == 1


def test_429_retry_after_seconds_and_exhaustion() -> None:
    with EmulatorServer(faults="create:429:retry-after=1:times=3") as emu:
        raw = httpx.post(f"{emu.base_url}/v1/messages/batches", json={"requests": requests_for(1)})
        assert raw.status_code == 429 and raw.headers["retry-after"] == "1"
        assert raw.json()["error"]["type"] == "rate_limit_error"
        client = sync_client(emu, max_retries=1)
        started = time.monotonic()
        with pytest.raises(anthropic.RateLimitError):
            client.messages.batches.create(requests=requests_for(1))
        assert time.monotonic() - started >= 1.0
        assert emu.batches() == []


def test_529_and_500() -> None:
    with EmulatorServer(faults="retrieve:529:times=1,list:500:should-retry=false:times=1") as emu:
        client = sync_client(emu)
        batch = client.messages.batches.create(requests=requests_for(1))
        with pytest.raises(anthropic.OverloadedError) as exc:
            client.messages.batches.retrieve(batch.id)
        assert exc.value.status_code == 529
        assert client.messages.batches.retrieve(batch.id).processing_status == "ended"
        with pytest.raises(anthropic.InternalServerError):
            sync_client(emu, max_retries=2).messages.batches.list()
        assert [e["status"] for e in _log(emu, "list")] == [500]  # x-should-retry: false
        emu.set_faults("*:529:retry-after-ms=10:times=2")
        assert sync_client(emu, max_retries=2).messages.batches.retrieve(batch.id).id == batch.id


@pytest.mark.parametrize("mode", ["500", "drop"])
def test_commit_then_lost_creates_two_batches(mode: str) -> None:
    with EmulatorServer(faults=f"create:lost:mode={mode}") as emu:
        client = sync_client(emu, max_retries=2)
        batch = client.messages.batches.create(requests=requests_for(2, prefix="step"))
        batches = admin(emu, "GET", "/batches")["data"]
        assert len(batches) == 2  # the retry created a duplicate, as the live API would
        assert batches[1]["id"] == batch.id
        assert batches[0]["custom_ids"] == batches[1]["custom_ids"] == ["step-0", "step-1"]
        with pytest.raises(anthropic.APIError):
            emu.set_faults(f"create:lost:mode={mode}")
            sync_client(emu).messages.batches.create(requests=requests_for(1))
        assert len(emu.batches()) == 3


def test_errored_and_expired_fractions() -> None:
    spec = "results:errored_fraction=0.3:type=overloaded_error,results:expired_fraction=0.2"
    with EmulatorServer(faults=spec) as emu:
        client = sync_client(emu)
        outcomes = []
        for _ in range(2):
            batch = client.messages.batches.create(requests=requests_for(60))
            counts = client.messages.batches.retrieve(batch.id).request_counts
            assert 5 < counts.errored < 35 and 2 < counts.expired < 25
            assert counts.errored + counts.expired + counts.succeeded == 60
            rows = {r.custom_id: r.result for r in client.messages.batches.results(batch.id)}
            errored = {k for k, v in rows.items() if v.type == "errored"}
            assert all(rows[k].error.error.type == "overloaded_error" for k in errored)
            outcomes.append({k: v.type for k, v in rows.items()})
        assert outcomes[0] == outcomes[1]  # deterministic per custom_id


def test_slow_and_cut_streams(emu: EmulatorServer, client: anthropic.Anthropic) -> None:
    batch = client.messages.batches.create(requests=requests_for(20))
    client.messages.batches.retrieve(batch.id)
    emu.set_faults("results:slow:delay=0.1:rows=5")
    started = time.monotonic()
    assert len(list(client.messages.batches.results(batch.id))) == 20
    assert time.monotonic() - started >= 0.3
    emu.set_faults("results:cut:after=7")
    seen = 0
    with pytest.raises((httpx2.HTTPError, json.JSONDecodeError)):
        for _ in client.messages.batches.results(batch.id):
            seen += 1
    assert seen == 7
    assert len(list(client.messages.batches.results(batch.id))) == 20  # fault fired once


def test_hang_times_out(emu: EmulatorServer) -> None:
    client = sync_client(emu, timeout=0.5)
    emu.set_faults("list:hang:seconds=3")
    with pytest.raises(anthropic.APITimeoutError):
        client.messages.batches.list()


def test_admin_fault_endpoints(emu: EmulatorServer) -> None:
    added = admin(emu, "POST", "/faults", json={"spec": "retrieve:503:times=2"})
    assert added["rules"][0]["kind"] == "503" and added["rules"][0]["times_remaining"] == 2
    admin(emu, "POST", "/faults", json=[{"endpoint": "list", "kind": "409"}])
    assert len(admin(emu, "GET", "/faults")["rules"]) == 2
    resp = httpx.get(f"{emu.base_url}/v1/messages/batches")
    assert resp.status_code == 409 and resp.json()["error"]["type"] == "conflict_error"
    assert admin(emu, "DELETE", "/faults") == {"rules": []}
    assert httpx.get(f"{emu.base_url}/v1/messages/batches").status_code == 200
    bad = httpx.post(f"{emu.admin_url}/faults", json={"spec": "bogus"})
    assert bad.status_code == 400


async def test_async_client_retries_429() -> None:
    async with (
        EmulatorServer(faults="create:429:retry-after-ms=50:times=2") as emu,
        async_client(emu, max_retries=2) as client,
    ):
        batch = await client.messages.batches.create(requests=requests_for(1))
        assert batch.processing_status == "in_progress"
        assert [e["status"] for e in _log(emu, "create")] == [429, 429, 200]
