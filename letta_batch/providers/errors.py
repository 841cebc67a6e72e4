"""The one place provider failures become `ProviderError`s.

Every SDK call of a provider adapter is wrapped so that whatever it raises (a typed
``anthropic`` error, a raw ``httpx``/``httpx2`` transport error from a streamed body, a
truncated JSONL line) arrives at the caller as a `ProviderError` that says whether retrying
can help and how long the provider asked us to wait. Activities turn it into Temporal's
``ApplicationError`` (this module must not import temporalio).

Secrets never leave through here: every message is scrubbed of ``sk-…`` tokens, bearer
tokens and the keys registered with `register_secret`.
"""

from __future__ import annotations

import email.utils
import json
import math
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

import anthropic
import httpx
import httpx2

#: Status codes worth retrying (the SDK's own policy: timeouts, lock conflicts, rate limits, 5xx).
RETRYABLE_STATUS = frozenset({408, 409, 429})
#: `error.type` to assume when a response has no parsable error body.
DEFAULT_ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "request_timeout",
    409: "conflict_error",
    413: "request_too_large",
    422: "unprocessable_entity",
    429: "rate_limit_error",
    500: "api_error",
    503: "service_unavailable",
    504: "timeout_error",
    529: "overloaded_error",
}
_MAX_RETRY_AFTER = 86_400.0  # a provider asking for more than a day is treated as a day
_SK_TOKEN = re.compile(r"sk-[A-Za-z0-9_\-]{6,}")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=\-]{6,}")
_SECRETS: set[str] = set()


def register_secret(secret: str | None) -> None:
    """Remember a configured key so `scrub` removes it even if it does not look like ``sk-…``."""
    if secret and len(secret) >= 4:
        _SECRETS.add(secret)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without API keys or bearer tokens."""
    for secret in sorted({*_SECRETS, *secrets}, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    text = _BEARER.sub(r"\1***", text)
    return _SK_TOKEN.sub("sk-***", text)


class ProviderError(Exception):
    """A provider call failed; `retryable` says whether trying again can succeed."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        status_code: int | None = None,
        error_type: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.message = scrub(message)
        self.retryable = retryable
        self.retry_after = retry_after
        """Seconds the provider asked us to wait (``retry-after-ms``/``retry-after``), if any."""
        self.status_code = status_code
        self.error_type = error_type
        """The provider's ``error.type`` (e.g. ``rate_limit_error``) or a local category
        (``connection_error``, ``timeout``, ``decode_error``, ``invalid_request_error``…)."""
        self.request_id = request_id
        super().__init__(self.message)

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only fields would be lost by Exception's default pickling.
        return (_rebuild, (self.message, self.to_dict()))

    def __repr__(self) -> str:
        return f"ProviderError({self.to_dict()!r})"

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain data (for ApplicationError details and logs)."""
        return {
            "message": self.message,
            "retryable": self.retryable,
            "retry_after": self.retry_after,
            "status_code": self.status_code,
            "error_type": self.error_type,
            "request_id": self.request_id,
        }


def _rebuild(message: str, fields: dict[str, Any]) -> ProviderError:
    fields = {k: v for k, v in fields.items() if k != "message"}
    return ProviderError(message, **fields)


def parse_retry_after(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms``, ``retry-after`` (seconds) or an HTTP-date."""
    if not headers:
        return None
    value: float | None = None
    raw_ms = headers.get("retry-after-ms")
    raw = headers.get("retry-after")
    try:
        value = float(raw_ms) / 1000.0 if raw_ms is not None else None
    except ValueError:
        value = None
    if value is None and raw is not None:
        try:
            value = float(raw)
        except ValueError:
            parsed = email.utils.parsedate_tz(raw)
            if parsed is not None:
                value = email.utils.mktime_tz(parsed) - (time.time() if now is None else now)
    if value is None or not math.isfinite(value):
        return None
    return min(max(value, 0.0), _MAX_RETRY_AFTER)


def _status_error(exc: anthropic.APIStatusError) -> ProviderError:
    status = exc.status_code
    headers = exc.response.headers
    should_retry = headers.get("x-should-retry")
    if should_retry == "true":
        retryable = True
    elif should_retry == "false":
        retryable = False
    else:
        retryable = status in RETRYABLE_STATUS or status >= 500
    error_type = exc.type if isinstance(exc.type, str) else DEFAULT_ERROR_TYPES.get(status)
    if error_type is None and status >= 500:
        error_type = "api_error"
    request_id = exc.request_id
    if request_id is None and isinstance(exc.body, dict):
        rid = exc.body.get("request_id")
        request_id = rid if isinstance(rid, str) else None
    detail = exc.api_message if isinstance(exc.api_message, str) else exc.message
    return ProviderError(
        f"HTTP {status} {error_type or 'error'}: {detail}",
        retryable=retryable,
        retry_after=parse_retry_after(headers) if retryable else None,
        status_code=status,
        error_type=error_type,
        request_id=request_id,
    )


def translate_error(exc: BaseException) -> ProviderError:
    """Map any failure of a provider call to a `ProviderError`.

    Retryable: 408, 409, 429, 5xx (incl. 529), connection errors and timeouts, a results
    stream cut mid-body; ``x-should-retry`` overrides the status rule both ways.
    Not retryable: other 4xx (400, 401, 403, 404, 413, 422…), invalid responses, local bugs.
    """
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, anthropic.APIStatusError):
        return _status_error(exc)
    if isinstance(exc, anthropic.APITimeoutError):
        return ProviderError(
            f"request timed out: {exc.message}", retryable=True, error_type="timeout"
        )
    if isinstance(exc, anthropic.APIConnectionError):
        cause = exc.__cause__
        if isinstance(cause, ProviderError):
            # Raised by our own streamed body (a bad request, a body unlike its declaration);
            # the SDK wraps whatever the send raises.
            return cause
        why = f" ({type(cause).__name__}: {cause})" if cause is not None else ""
        return ProviderError(
            f"connection error{why}", retryable=True, error_type="connection_error"
        )
    if isinstance(exc, httpx2.TimeoutException | httpx.TimeoutException | TimeoutError):
        return ProviderError(f"timeout: {exc!s}", retryable=True, error_type="timeout")
    if isinstance(exc, httpx2.RequestError | httpx.RequestError | ConnectionError):
        # Raised while a streamed body is read (the SDK only wraps errors of the send itself).
        return ProviderError(
            f"transport error ({type(exc).__name__}): {exc!s}",
            retryable=True,
            error_type="connection_error",
        )
    if isinstance(exc, json.JSONDecodeError):
        # A JSONL line cut short: the stream ended early; reading it again usually works.
        return ProviderError(
            f"malformed or truncated response line: {exc.msg} at char {exc.pos}",
            retryable=True,
            error_type="decode_error",
        )
    if isinstance(exc, anthropic.APIResponseValidationError):
        return ProviderError(
            f"invalid response: {exc.message}",
            retryable=False,
            status_code=exc.status_code,
            error_type="invalid_response",
        )
    if isinstance(exc, anthropic.AnthropicError):
        return ProviderError(f"client error: {exc!s}", retryable=False, error_type="client_error")
    return ProviderError(
        f"unexpected {type(exc).__name__}: {exc!s}", retryable=False, error_type="unexpected"
    )
