"""List paging through the SDK's auto-pager, both directions, plus raw page shapes."""

from __future__ import annotations

import anthropic
import httpx
import pytest

from letta_batch.providers.emulator import EmulatorServer

from .helpers import admin, async_client, requests_for


def _make(client: anthropic.Anthropic, n: int) -> list[str]:
    """Create n batches; returns ids newest first (list order)."""
    ids = [client.messages.batches.create(requests=requests_for(1)).id for _ in range(n)]
    return list(reversed(ids))


def test_empty_list_has_null_ids(emu: EmulatorServer) -> None:
    page = httpx.get(f"{emu.base_url}/v1/messages/batches").json()
    assert page == {"data": [], "has_more": False, "first_id": None, "last_id": None}


def test_default_limit_is_20(emu: EmulatorServer, client: anthropic.Anthropic) -> None:
    newest_first = _make(client, 23)
    page = client.messages.batches.list()
    assert [b.id for b in page.data] == newest_first[:20]
    assert page.has_more is True
    assert page.first_id == newest_first[0] and page.last_id == newest_first[19]
    assert [b.id for b in page] == newest_first  # auto-paging walks the rest


def test_after_id_walks_older(emu: EmulatorServer, client: anthropic.Anthropic) -> None:
    newest_first = _make(client, 7)
    assert [b.id for b in client.messages.batches.list(limit=2)] == newest_first
    log = admin(emu, "GET", "/requests")["data"]
    queries = [e["query"] for e in log if e["endpoint"] == "list"]
    assert queries[0] == "limit=2"
    assert queries[1] == f"limit=2&after_id={newest_first[1]}"
    assert len(queries) == 4  # 2 + 2 + 2 + 1, the last page has has_more=false
    page = client.messages.batches.list(limit=3, after_id=newest_first[2])
    assert [b.id for b in page.data] == newest_first[3:6] and page.has_more is True
    last = client.messages.batches.list(limit=3, after_id=newest_first[5])
    assert [b.id for b in last.data] == newest_first[6:] and last.has_more is False


def test_before_id_walks_newer(emu: EmulatorServer, client: anthropic.Anthropic) -> None:
    newest_first = _make(client, 7)
    oldest = newest_first[-1]
    page = client.messages.batches.list(limit=2, before_id=oldest)
    # the two batches immediately newer than the cursor, still presented newest first
    assert [b.id for b in page.data] == newest_first[4:6]
    assert page.has_more is True
    walked = [b.id for b in client.messages.batches.list(limit=2, before_id=oldest)]
    assert sorted(walked) == sorted(newest_first[:-1])
    top = client.messages.batches.list(limit=5, before_id=newest_first[2])
    assert [b.id for b in top.data] == newest_first[:2] and top.has_more is False


def test_deleted_batches_disappear_from_list(
    emu: EmulatorServer, client: anthropic.Anthropic
) -> None:
    newest_first = _make(client, 3)
    client.messages.batches.retrieve(newest_first[1])
    client.messages.batches.delete(newest_first[1])
    assert [b.id for b in client.messages.batches.list()] == [newest_first[0], newest_first[2]]
    # a deleted batch still works as a cursor
    page = client.messages.batches.list(after_id=newest_first[1])
    assert [b.id for b in page.data] == [newest_first[2]]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit: Input should be greater than or equal to 1"),
        ("limit=1001", "limit: Input should be less than or equal to 1000"),
        ("limit=x", "limit: Input should be a valid integer"),
        ("after_id=msgbatch_nope", "Invalid cursor: msgbatch_nope"),
    ],
)
def test_bad_list_params(emu: EmulatorServer, query: str, message: str) -> None:
    resp = httpx.get(f"{emu.base_url}/v1/messages/batches?{query}")
    assert resp.status_code == 400
    assert resp.json()["error"] == {"type": "invalid_request_error", "message": message}


def test_limit_1000_accepted(emu: EmulatorServer, client: anthropic.Anthropic) -> None:
    _make(client, 2)
    assert len(client.messages.batches.list(limit=1000).data) == 2
    ids = _make(client, 1)
    with pytest.raises(anthropic.BadRequestError):
        client.messages.batches.list(after_id=ids[0], before_id=ids[0])


async def test_async_paging(emu: EmulatorServer) -> None:
    async with async_client(emu) as client:
        for _ in range(5):
            await client.messages.batches.create(requests=requests_for(1))
        ids = [b.id async for b in client.beta.messages.batches.list(limit=2)]
        assert len(ids) == 5 and len(set(ids)) == 5
