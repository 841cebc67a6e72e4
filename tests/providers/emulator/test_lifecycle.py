"""Batch lifecycle through the official SDK: create/retrieve/cancel/delete/results, GA + beta."""

from __future__ import annotations

import re
from datetime import timedelta

import anthropic
import httpx
import pytest
from anthropic.types.beta.messages import BetaMessageBatchIndividualResponse
from anthropic.types.messages import MessageBatchIndividualResponse

from letta_batch.providers.emulator import EmulatorServer

from .helpers import admin, async_client, params, requests_for, sync_client

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
FIELDS = {
    "id", "type", "processing_status", "request_counts", "created_at", "expires_at",
    "ended_at", "cancel_initiated_at", "archived_at", "results_url",
}  # fmt: skip


def test_create_returns_full_in_progress_batch(emu: EmulatorServer) -> None:
    resp = httpx.post(
        f"{emu.base_url}/v1/messages/batches",
        json={"requests": requests_for(3)},
        headers={"authorization": "Bearer k"},
    )
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == FIELDS
    assert re.fullmatch(r"msgbatch_[A-Za-z0-9]{24}", body["id"])
    assert re.fullmatch(r"req_[A-Za-z0-9]{24}", resp.headers["request-id"])
    assert body["processing_status"] == "in_progress"
    assert body["request_counts"] == {
        "processing": 3, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0,
    }  # fmt: skip
    assert body["results_url"] is None and body["ended_at"] is None
    assert TS.match(body["created_at"]) and TS.match(body["expires_at"])
    # The admin view tells benchmarks how long accepting the call took on the provider's side.
    listed = admin(emu, "GET", "/batches", params={"requests": "false"})["data"]
    (summary,) = [b for b in listed if b["id"] == body["id"]]
    assert 0 < summary["accept_seconds"] < 10
    assert summary["results_seconds"] == 0  # nothing downloaded yet
    assert "requests" not in summary


def test_sync_ga_lifecycle(emu: EmulatorServer, client: anthropic.Anthropic) -> None:
    batch = client.messages.batches.create(requests=requests_for(4))
    assert batch.expires_at - batch.created_at == timedelta(hours=24)
    assert batch._request_id and batch._request_id.startswith("req_")
    got = client.messages.batches.retrieve(batch.id)  # processing_seconds=0: ends on first poll
    assert got.processing_status == "ended"
    assert got.request_counts.succeeded == 4 and got.request_counts.processing == 0
    assert got.ended_at is not None and got.ended_at >= got.created_at
    assert got.results_url == f"{emu.base_url}/v1/messages/batches/{batch.id}/results"
    rows = list(client.messages.batches.results(batch.id))
    assert sorted(r.custom_id for r in rows) == [f"r-{i}" for i in range(4)]
    for row in rows:
        MessageBatchIndividualResponse.model_validate(row.model_dump())
    deleted = client.messages.batches.delete(batch.id)
    assert deleted.id == batch.id and deleted.type == "message_batch_deleted"
    with pytest.raises(anthropic.NotFoundError) as exc:
        client.messages.batches.retrieve(batch.id)
    assert exc.value.body["error"]["message"] == f"Message Batch {batch.id} not found."  # type: ignore[index]
    assert exc.value.request_id and exc.value.request_id.startswith("req_")
    with pytest.raises(anthropic.NotFoundError):
        client.messages.batches.delete(batch.id)
    listed = admin(emu, "GET", "/batches")["data"]
    assert [b["id"] for b in listed] == [batch.id] and listed[0]["deleted"] is True


def test_beta_resource_and_types(emu: EmulatorServer, client: anthropic.Anthropic) -> None:
    beta = client.beta.messages.batches
    batch = beta.create(requests=requests_for(2), betas=["message-batches-2024-09-24"])
    assert beta.retrieve(batch.id).processing_status == "ended"
    rows = list(beta.results(batch.id))
    assert {type(r).__name__ for r in rows} == {"BetaMessageBatchIndividualResponse"}
    for row in rows:
        BetaMessageBatchIndividualResponse.model_validate(row.model_dump())
    assert [b.id for b in beta.list()] == [batch.id]
    assert beta.delete(batch.id).type == "message_batch_deleted"
    log = admin(emu, "GET", "/requests")["data"]
    assert log[0]["anthropic_beta"] == "message-batches-2024-09-24"


async def test_async_client_lifecycle(emu: EmulatorServer) -> None:
    async with async_client(emu) as client:
        for resource in (client.messages.batches, client.beta.messages.batches):
            batch = await resource.create(requests=requests_for(3))
            assert (await resource.retrieve(batch.id)).processing_status == "ended"
            rows = [row async for row in await resource.results(batch.id)]
            assert len(rows) == 3 and all(r.result.type == "succeeded" for r in rows)
            assert (await resource.delete(batch.id)).type == "message_batch_deleted"


async def test_async_with_server() -> None:
    async with EmulatorServer(processing_seconds=3600) as emu, async_client(emu) as client:
        batch = await client.messages.batches.create(requests=requests_for(1))
        assert (await client.messages.batches.retrieve(batch.id)).processing_status == "in_progress"


def test_results_before_end(slow_emu: EmulatorServer) -> None:
    client = sync_client(slow_emu)
    batch = client.messages.batches.create(requests=requests_for(2))
    with pytest.raises(anthropic.AnthropicError, match="No `results_url`"):
        client.messages.batches.results(batch.id)
    resp = httpx.get(f"{slow_emu.base_url}/v1/messages/batches/{batch.id}/results")
    assert resp.status_code == 404
    assert resp.json()["error"] == {
        "type": "not_found_error",
        "message": f"Message Batch {batch.id} has no available results.",
    }
    with pytest.raises(anthropic.BadRequestError, match="In progress batches cannot be deleted"):
        client.messages.batches.delete(batch.id)


def test_processing_time_and_clock(slow_emu: EmulatorServer) -> None:
    client = sync_client(slow_emu)
    batch = client.messages.batches.create(requests=requests_for(5))
    slow_emu.advance(1800)
    assert client.messages.batches.retrieve(batch.id).processing_status == "in_progress"
    admin(slow_emu, "POST", "/clock/advance", json={"seconds": 1800})
    ended = client.messages.batches.retrieve(batch.id)
    assert ended.processing_status == "ended" and ended.request_counts.succeeded == 5
    assert ended.ended_at == batch.created_at + timedelta(hours=1)
    slow_emu.advance(29 * 86400)
    archived = client.messages.batches.retrieve(batch.id)
    assert archived.archived_at is not None and archived.results_url is None


def test_expiry_after_24h() -> None:
    with EmulatorServer(processing_seconds=200_000) as emu:
        client = sync_client(emu)
        batch = client.messages.batches.create(requests=requests_for(20))
        emu.advance(86_400)
        got = client.messages.batches.retrieve(batch.id)
        counts = got.request_counts
        assert got.processing_status == "ended" and got.ended_at == got.expires_at
        assert counts.expired > 0 and counts.expired + counts.succeeded == 20
        rows = {r.custom_id: r.result.type for r in client.messages.batches.results(batch.id)}
        assert sum(t == "expired" for t in rows.values()) == counts.expired


def test_cancel_flow() -> None:
    with EmulatorServer(processing_seconds=3600, cancel_drain_seconds=20) as emu:
        client = sync_client(emu)
        batch = client.messages.batches.create(requests=requests_for(30))
        emu.advance(1800)  # roughly half of the requests have finished
        canceling = client.messages.batches.cancel(batch.id)
        assert canceling.processing_status == "canceling"
        assert canceling.cancel_initiated_at is not None
        assert canceling.request_counts.processing == 30
        again = client.messages.batches.cancel(batch.id)  # cancel while canceling: unchanged
        assert again.processing_status == "canceling"
        assert again.cancel_initiated_at == canceling.cancel_initiated_at
        emu.advance(20)
        ended = client.messages.batches.retrieve(batch.id)
        counts = ended.request_counts
        assert ended.processing_status == "ended"
        assert ended.ended_at == canceling.cancel_initiated_at + timedelta(seconds=20)
        assert 0 < counts.canceled < 30 and counts.canceled + counts.succeeded == 30
        kinds = [r.result.type for r in client.messages.batches.results(batch.id)]
        assert kinds.count("canceled") == counts.canceled
        with pytest.raises(anthropic.BadRequestError) as exc:
            client.messages.batches.cancel(batch.id)
        assert exc.value.body["error"]["message"] == (  # type: ignore[index]
            f"Batch {batch.id} cannot be canceled because it has already finished processing"
        )


def test_admin_force_end_and_expire(slow_emu: EmulatorServer) -> None:
    client = sync_client(slow_emu)
    first = client.messages.batches.create(requests=requests_for(3))
    second = client.messages.batches.create(requests=requests_for(3))
    admin(slow_emu, "POST", f"/batches/{first.id}/end")
    assert client.messages.batches.retrieve(first.id).request_counts.succeeded == 3
    expired = admin(slow_emu, "POST", f"/batches/{second.id}/expire")
    assert expired["request_counts"]["expired"] == 3
    assert {r.result.type for r in client.messages.batches.results(second.id)} == {"expired"}


def test_incremental_counts() -> None:
    with EmulatorServer(processing_seconds=100, counts_mode="incremental") as emu:
        client = sync_client(emu)
        batch = client.messages.batches.create(requests=requests_for(40))
        emu.advance(50)
        counts = client.messages.batches.retrieve(batch.id).request_counts
        assert 0 < counts.processing < 40 and counts.processing + counts.succeeded == 40


def test_prefix_relative_url_and_host_header() -> None:
    with EmulatorServer(prefix="/anthropic/") as emu:
        assert emu.base_url.endswith("/anthropic")
        client = sync_client(emu)
        batch = client.messages.batches.create(requests=requests_for(1))
        url = client.messages.batches.retrieve(batch.id).results_url
        assert url == f"{emu.base_url}/v1/messages/batches/{batch.id}/results"
        assert len(list(client.messages.batches.results(batch.id))) == 1
        other = httpx.get(
            f"{emu.base_url}/v1/messages/batches/{batch.id}", headers={"host": "proxy.test:9"}
        )
        assert other.json()["results_url"].startswith("http://proxy.test:9/anthropic/v1/")
    with EmulatorServer(results_url_mode="relative") as emu:
        client = sync_client(emu)
        batch = client.messages.batches.create(requests=requests_for(2))
        assert client.messages.batches.retrieve(batch.id).results_url == (
            f"/v1/messages/batches/{batch.id}/results"
        )
        assert len(list(client.messages.batches.results(batch.id))) == 2


def test_results_stream_is_strict_jsonl(emu: EmulatorServer, client: anthropic.Anthropic) -> None:
    batch = client.messages.batches.create(requests=requests_for(600))
    url = client.messages.batches.retrieve(batch.id).results_url
    assert url is not None
    resp = httpx.get(url)
    assert resp.headers["content-type"] == "application/x-jsonl"
    assert resp.headers["request-id"].startswith("req_")
    body = resp.content
    assert body.endswith(b"\n") and b"\n\n" not in body and b"\r" not in body
    ids = [line.split(b'"', 4)[3].decode() for line in body.splitlines()]
    assert sorted(ids) == sorted(f"r-{i}" for i in range(600))
    assert ids != [f"r-{i}" for i in range(600)]  # shuffled …
    assert httpx.get(url).content == body  # … but stable
    listed = admin(emu, "GET", "/batches", params={"requests": "false"})["data"]
    (summary,) = [b for b in listed if b["id"] == batch.id]
    assert summary["results_seconds"] > 0  # the rendering of both downloads, for benchmarks


def test_x_api_key_and_beta_query_like_sdk_0x(emu: EmulatorServer) -> None:
    headers = {
        "x-api-key": "sk-old",
        "anthropic-version": "2023-06-01",
        "anthropic-beta": "message-batches-2024-09-24",
    }
    base = f"{emu.base_url}/v1/messages/batches"
    created = httpx.post(f"{base}?beta=true", json={"requests": requests_for(1)}, headers=headers)
    assert created.status_code == 200
    batch_id = created.json()["id"]
    got = httpx.get(f"{base}/{batch_id}?beta=true", headers=headers).json()
    assert got["processing_status"] == "ended"
    listed = httpx.get(f"{base}?beta=true&limit=5", headers=headers).json()
    assert listed["data"][0]["id"] == batch_id
    rows = httpx.get(got["results_url"], headers=headers).text.splitlines()
    assert len(rows) == 1
    deleted = httpx.delete(f"{base}/{batch_id}?beta=true", headers=headers)
    assert deleted.json() == {"id": batch_id, "type": "message_batch_deleted"}


def test_body_less_cancel_and_delete(slow_emu: EmulatorServer) -> None:
    base = f"{slow_emu.base_url}/v1/messages/batches"
    batch_id = httpx.post(base, json={"requests": requests_for(1)}).json()["id"]
    headers = {"content-type": "application/json"}
    resp = httpx.post(f"{base}/{batch_id}/cancel", headers=headers)  # content-length: 0
    assert resp.json()["processing_status"] == "canceling"
    httpx.get(f"{base}/{batch_id}")
    assert httpx.request("DELETE", f"{base}/{batch_id}", headers=headers).status_code == 200


def test_unknown_route_uses_envelope(emu: EmulatorServer) -> None:
    resp = httpx.get(f"{emu.base_url}/v1/nope")
    assert resp.status_code == 404 and resp.json()["type"] == "error"
    assert resp.json()["request_id"] == resp.headers["request-id"]
    assert params()["model"].startswith("claude-")
