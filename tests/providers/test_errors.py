"""translate_error: real SDK exception objects built from real HTTP responses."""

from __future__ import annotations

import email.utils
import json
import pickle
import time

import anthropic
import httpx
import httpx2
import pytest

from letta_batch.providers.errors import (
    ProviderError,
    parse_retry_after,
    register_secret,
    scrub,
    translate_error,
)

API_KEY = "sk-ant-api03-THISISAFAKEKEYFORTESTS_0123456789abcdef"
_SDK = anthropic.AsyncAnthropic(api_key=API_KEY, base_url="http://127.0.0.1:9")
_REQUEST = httpx2.Request("POST", "http://127.0.0.1:9/v1/messages/batches")


def status_error(
    status: int,
    error_type: str | None = None,
    message: str = "boom",
    headers: dict[str, str] | None = None,
    body: str | None = None,
) -> anthropic.APIStatusError:
    """The exception the SDK raises for this response (its own status → class mapping)."""
    if body is None:
        envelope = {"type": "error", "error": {"type": error_type, "message": message}}
        body = json.dumps({**envelope, "request_id": "req_body_1"})
    response = httpx2.Response(
        status,
        headers={"request-id": "req_hdr_1", **(headers or {})},
        content=body.encode(),
        request=_REQUEST,
    )
    return _SDK._make_status_error_from_response(response)


@pytest.mark.parametrize(
    ("status", "error_type", "exc_cls", "retryable"),
    [
        (400, "invalid_request_error", anthropic.BadRequestError, False),
        (401, "authentication_error", anthropic.AuthenticationError, False),
        (403, "permission_error", anthropic.PermissionDeniedError, False),
        (404, "not_found_error", anthropic.NotFoundError, False),
        (408, None, anthropic.RequestTimeoutError, True),
        (409, "conflict_error", anthropic.ConflictError, True),
        (413, "request_too_large", anthropic.ContentTooLargeError, False),
        (422, None, anthropic.UnprocessableEntityError, False),
        (429, "rate_limit_error", anthropic.RateLimitError, True),
        (500, "api_error", anthropic.InternalServerError, True),
        (502, None, anthropic.InternalServerError, True),
        (503, None, anthropic.ServiceUnavailableError, True),
        (504, "timeout_error", anthropic.GatewayTimeoutError, True),
        (529, "overloaded_error", anthropic.OverloadedError, True),
    ],
)
def test_status_codes(status: int, error_type: str | None, exc_cls: type, retryable: bool) -> None:
    exc = status_error(status, error_type)
    assert isinstance(exc, exc_cls)
    err = translate_error(exc)
    assert err.retryable is retryable
    assert err.status_code == status
    assert err.error_type is not None
    if error_type:
        assert err.error_type == error_type
    assert err.request_id == "req_hdr_1"
    assert "boom" in err.message and str(status) in err.message


def test_default_error_type_and_body_request_id_without_header() -> None:
    response = httpx2.Response(529, content=b"Overloaded", request=_REQUEST)
    err = translate_error(_SDK._make_status_error_from_response(response))
    assert (err.error_type, err.retryable, err.request_id) == ("overloaded_error", True, None)
    assert "Overloaded" in err.message
    body = json.dumps(
        {
            "type": "error",
            "error": {"type": "api_error", "message": "x"},
            "request_id": "req_in_body",
        }
    )
    response = httpx2.Response(500, content=body.encode(), request=_REQUEST)
    assert translate_error(_SDK._make_status_error_from_response(response)).request_id == (
        "req_in_body"
    )


def test_retry_after_ms_wins_over_seconds() -> None:
    exc = status_error(
        429, "rate_limit_error", headers={"retry-after-ms": "1500", "retry-after": "9"}
    )
    err = translate_error(exc)
    assert err.retryable and err.retry_after == pytest.approx(1.5)


def test_retry_after_seconds_float() -> None:
    err = translate_error(status_error(529, "overloaded_error", headers={"retry-after": "2.5"}))
    assert err.retry_after == pytest.approx(2.5)


def test_retry_after_http_date() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    err = translate_error(status_error(503, headers={"retry-after": when}))
    assert err.retry_after is not None and 25 <= err.retry_after <= 31


def test_retry_after_past_date_is_zero_and_garbage_is_none() -> None:
    past = email.utils.formatdate(time.time() - 300, usegmt=True)
    assert parse_retry_after({"retry-after": past}) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({"retry-after-ms": "nan"}) is None
    assert parse_retry_after({}) is None


def test_retry_after_ignored_on_non_retryable() -> None:
    err = translate_error(status_error(400, "invalid_request_error", headers={"retry-after": "5"}))
    assert not err.retryable and err.retry_after is None


def test_x_should_retry_overrides_both_ways() -> None:
    forced = translate_error(
        status_error(400, "invalid_request_error", headers={"x-should-retry": "true"})
    )
    assert forced.retryable
    vetoed = translate_error(status_error(500, "api_error", headers={"x-should-retry": "false"}))
    assert not vetoed.retryable and vetoed.retry_after is None


def test_connection_and_timeout_errors() -> None:
    conn = anthropic.APIConnectionError(request=_REQUEST)
    conn.__cause__ = httpx2.ConnectError("refused")
    err = translate_error(conn)
    assert err.retryable and err.error_type == "connection_error" and "ConnectError" in err.message
    timeout = translate_error(anthropic.APITimeoutError(request=_REQUEST))
    assert timeout.retryable and timeout.error_type == "timeout"


@pytest.mark.parametrize(
    "exc",
    [
        httpx2.RemoteProtocolError("peer closed connection without sending complete body"),
        httpx2.ReadTimeout("read timed out"),
        httpx.ReadError("reset"),
        httpx.ConnectTimeout("slow"),
        ConnectionResetError("reset by peer"),
        json.JSONDecodeError("Unterminated string", '{"custom_id": "a', 14),
    ],
)
def test_transport_and_cut_stream_errors_are_retryable(exc: BaseException) -> None:
    assert translate_error(exc).retryable


def test_local_errors_are_not_retryable() -> None:
    assert not translate_error(anthropic.AnthropicError("No `results_url`")).retryable
    assert not translate_error(KeyError("x")).retryable
    same = ProviderError("x", retryable=True)
    assert translate_error(same) is same


def test_api_key_never_in_message() -> None:
    body = json.dumps(
        {
            "type": "error",
            "error": {
                "type": "authentication_error",
                "message": f"invalid x-api-key {API_KEY} (Authorization: Bearer {API_KEY})",
            },
        }
    )
    err = translate_error(status_error(401, body=body))
    assert API_KEY not in err.message and API_KEY not in repr(err) and API_KEY not in str(err)
    assert "sk-***" in err.message or "***" in err.message


def test_registered_non_sk_key_is_scrubbed() -> None:
    odd_key = "emulator-secret-key-42"
    register_secret(odd_key)
    err = translate_error(RuntimeError(f"failed with key {odd_key}"))
    assert odd_key not in err.message
    assert scrub(f"Bearer abcdef123456 and {odd_key}") == "Bearer *** and ***"


def test_provider_error_pickles_with_fields() -> None:
    err = ProviderError(
        "rate",
        retryable=True,
        retry_after=3.0,
        status_code=429,
        error_type="rate_limit_error",
        request_id="req_1",
    )
    back = pickle.loads(pickle.dumps(err))
    assert back.to_dict() == err.to_dict()
