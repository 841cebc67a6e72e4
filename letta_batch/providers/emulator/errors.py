"""Error envelope of the Anthropic API and the exception the handlers raise to produce it."""

from __future__ import annotations

from typing import Any

# HTTP status -> `error.type` used in the envelope (spec §2.2).
STATUS_ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    408: "timeout_error",
    409: "conflict_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}

DEFAULT_MESSAGES: dict[str, str] = {
    "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit.",
    "overloaded_error": "Overloaded",
    "api_error": "Internal server error",
    "timeout_error": "Request timed out",
    "conflict_error": "Conflict",
    "request_too_large": "Request exceeds the maximum allowed number of bytes.",
    "authentication_error": "API key is invalid.",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "Not found",
    "invalid_request_error": "Invalid request",
    "billing_error": "Your credit balance is too low to access the Anthropic API.",
}


def error_type_for(status: int) -> str:
    """The envelope `error.type` for an HTTP status (>=500 defaults to api_error)."""
    if status in STATUS_ERROR_TYPES:
        return STATUS_ERROR_TYPES[status]
    return "api_error" if status >= 500 else "invalid_request_error"


class ApiError(Exception):
    """Raised by handlers; the middleware turns it into an error envelope response."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        *,
        error_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.error_type = error_type or error_type_for(status)
        self.message = message or DEFAULT_MESSAGES.get(self.error_type, "Error")
        self.headers = headers or {}
        super().__init__(f"{status} {self.error_type}: {self.message}")


def envelope(error_type: str, message: str, request_id: str | None) -> dict[str, Any]:
    """`{"type":"error","error":{"type","message"},"request_id"}`."""
    return {
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": request_id,
    }


def bad_request(message: str) -> ApiError:
    """400 invalid_request_error."""
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    """404 not_found_error."""
    return ApiError(404, message)
