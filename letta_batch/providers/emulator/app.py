"""aiohttp application: the Message Batches routes, auth, error envelope and fault hooks."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from .admin import add_admin_routes
from .clock import new_id
from .config import EmulatorConfig
from .envelope_stream import NotStreamable, body_text, stream_requests
from .errors import ApiError, envelope, error_type_for
from .faults import POST_KINDS, PRE_KINDS, FaultRule, FaultSet
from .outcomes import BatchContext
from .results import stream_results
from .scenario import Scenario
from .state import REQUEST_ID, STATE_KEY, EmulatorState, state_of
from .stored_params import StoredParams
from .validation import check_envelope, decode_body

log = logging.getLogger(__name__)
Handler = Any


def json_response(request: web.Request, data: Any, status: int = 200) -> web.Response:
    """JSON response carrying this request's `request-id`."""
    return web.json_response(data, status=status, headers={"request-id": request[REQUEST_ID]})


def error_response(request: web.Request, err: ApiError) -> web.Response:
    """The Anthropic error envelope for `err`."""
    body = envelope(err.error_type, err.message, request[REQUEST_ID])
    resp = json_response(request, body, err.status)
    resp.headers.update(err.headers)
    return resp


def _check_auth(request: web.Request, keys: tuple[str, ...]) -> None:
    if not keys:
        return
    key = request.headers.get("x-api-key")
    bearer = request.headers.get("authorization", "")
    if bearer.lower().startswith("bearer "):
        key = key or bearer[7:].strip()
    if key not in keys:
        raise ApiError(401, "API key is invalid.")


def fault_error(rule: FaultRule) -> ApiError:
    """The ApiError a status fault produces, with retry headers."""
    status = rule.status or 500
    headers: dict[str, str] = {}
    if rule.param("retry-after") is not None:
        headers["retry-after"] = str(rule.param("retry-after"))
    if rule.param("retry-after-ms") is not None:
        headers["retry-after-ms"] = str(rule.param("retry-after-ms"))
    if rule.param("should-retry") is not None:
        headers["x-should-retry"] = str(rule.param("should-retry")).lower()
    err_type = str(rule.param("type") or error_type_for(status))
    return ApiError(status, rule.param("message"), error_type=err_type, headers=headers)


async def _lose_response(request: web.Request, rule: FaultRule) -> web.StreamResponse:
    if str(rule.param("mode", "500")) == "drop":
        # Close without any response bytes: the client sees a dropped connection.
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError
    raise fault_error(rule)


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """request-id, auth, faults, error envelope and the request log for every response."""
    state = state_of(request)
    request[REQUEST_ID] = new_id("req_")
    route = request.match_info.route
    endpoint = route.name if route.name and not route.name.startswith("admin") else None
    resp: web.StreamResponse
    try:
        if endpoint:
            _check_auth(request, state.config.api_keys)
            rule = state.faults.take(endpoint, PRE_KINDS)
            if rule is not None and rule.kind == "hang":
                await asyncio.sleep(float(rule.param("seconds", 30)))
            elif rule is not None:
                raise fault_error(rule)
        resp = await handler(request)
        if endpoint and not resp.prepared:  # a streamed body cannot be "lost" any more
            lost = state.faults.take(endpoint, POST_KINDS)
            if lost is not None:
                resp = await _lose_response(request, lost)
    except ApiError as err:
        resp = error_response(request, err)
    except web.HTTPException as exc:
        resp = error_response(request, ApiError(exc.status, exc.reason))
    if not resp.prepared:
        resp.headers["request-id"] = request[REQUEST_ID]
    if endpoint:
        state.request_log.append(
            {
                "endpoint": endpoint,
                "method": request.method,
                "path": request.path,
                "query": request.query_string,
                "status": resp.status,
                "request_id": request[REQUEST_ID],
                "retry_count": request.headers.get("x-stainless-retry-count"),
                "auth": "bearer" if "authorization" in request.headers else "x-api-key",
                "anthropic_beta": request.headers.get("anthropic-beta"),
            }
        )
    return resp


async def _read_body(request: web.Request, limit: int) -> bytearray:
    declared = request.content_length
    body = bytearray()
    size = 0
    async for chunk in request.content.iter_chunked(1 << 20):
        size += len(chunk)
        if size <= limit:
            body += chunk  # past the limit: keep draining so the client can read the 413
    if size > limit or (declared is not None and declared > limit):
        raise ApiError(413, f"Request exceeds the maximum allowed number of bytes ({limit}).")
    return body


Prepared = tuple[list[str], StoredParams, list[str | None], bytearray]


def _prepare(holder: list[bytearray], ctx: BatchContext) -> Prepared:
    """Decode, validate and classify a create body (runs in a worker thread).

    Memory matters for 100k x 10 KB batches: the raw body is released once it has been read
    as text, and the requests are decoded one at a time, each released once canonicalised and
    classified (``envelope_stream``). A body that is not valid throughout is decoded whole,
    as before, for its errors.
    """
    raw = holder.pop()
    text = body_text(raw)
    # json.loads reads the text as it read the bytes, which can then go.
    body: bytes | bytearray | str = raw if text is None else text
    del raw
    if text is not None:
        try:
            return _classify(stream_requests(text, ctx.config.max_requests), ctx)
        except NotStreamable:
            pass
    pairs: list[Any] = check_envelope(decode_body(body), ctx.config)
    del body, text

    def releasing() -> Iterator[tuple[str, dict[str, Any]]]:
        for i, pair in enumerate(pairs):
            pairs[i] = None
            yield pair

    return _classify(releasing(), ctx)


def _classify(requests: Iterator[tuple[str, dict[str, Any]]], ctx: BatchContext) -> Prepared:
    ids: list[str] = []
    stored = StoredParams()
    user_ids: list[str | None] = []
    codes = bytearray()
    for custom_id, params in requests:
        ids.append(custom_id)
        stored.add(params)
        user_ids.append(ctx.user_id(params))
        codes.append(ctx.natural_code(custom_id, params))
    return ids, stored, user_ids, codes


async def create(request: web.Request) -> web.Response:
    """POST /v1/messages/batches."""
    state = state_of(request)
    holder = [await _read_body(request, state.config.max_body_bytes)]
    arrived = time.perf_counter()
    fault, fault_rules = state.faults.peek_outcome()
    ctx = BatchContext(state.config, state.scenario, fault)
    # CPU-heavy for big batches: keep the event loop responsive while it runs.
    prepared = await asyncio.get_running_loop().run_in_executor(None, _prepare, holder, ctx)
    state.faults.consume(fault_rules)
    batch = state.store.add(ctx, *prepared)
    batch.accept_seconds = time.perf_counter() - arrived
    return json_response(request, state.batch_json(batch, request))


async def retrieve(request: web.Request) -> web.Response:
    """GET /v1/messages/batches/{id}."""
    state = state_of(request)
    batch = state.store.get(request.match_info["batch_id"])
    return json_response(request, state.batch_json(batch, request))


def _limit(raw: str | None) -> int:
    if raw is None:
        return 20
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "limit: Input should be a valid integer") from None
    if value < 1:
        raise ApiError(400, "limit: Input should be greater than or equal to 1")
    if value > 1000:
        raise ApiError(400, "limit: Input should be less than or equal to 1000")
    return value


async def list_batches(request: web.Request) -> web.Response:
    """GET /v1/messages/batches (newest first, cursor paging)."""
    state = state_of(request)
    q = request.query
    page = state.store.page(_limit(q.get("limit")), q.get("after_id"), q.get("before_id"))
    data = [state.batch_json(b, request) for b in page["batches"]]
    return json_response(
        request,
        {
            "data": data,
            "has_more": page["has_more"],
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
        },
    )


async def cancel(request: web.Request) -> web.Response:
    """POST /v1/messages/batches/{id}/cancel."""
    state = state_of(request)
    batch = state.store.cancel(request.match_info["batch_id"])
    return json_response(request, state.batch_json(batch, request))


async def delete(request: web.Request) -> web.Response:
    """DELETE /v1/messages/batches/{id}."""
    batch = state_of(request).store.delete(request.match_info["batch_id"])
    return json_response(request, {"id": batch.id, "type": "message_batch_deleted"})


def build_app(
    config: EmulatorConfig | None = None,
    *,
    scenario: Scenario | None = None,
    faults: FaultSet | None = None,
) -> web.Application:
    """The emulator as an aiohttp Application (routes under `config.prefix`)."""
    config = config or EmulatorConfig()
    state = EmulatorState(config=config, scenario=scenario, faults=faults or FaultSet())
    app = web.Application(middlewares=[api_middleware], client_max_size=config.max_body_bytes + 1)
    app[STATE_KEY] = state
    base = f"{config.clean_prefix}/v1/messages/batches"
    app.router.add_post(base, create, name="create")
    app.router.add_get(base, list_batches, name="list")
    app.router.add_get(base + "/{batch_id}", retrieve, name="retrieve")
    app.router.add_delete(base + "/{batch_id}", delete, name="delete")
    app.router.add_post(base + "/{batch_id}/cancel", cancel, name="cancel")
    app.router.add_get(base + "/{batch_id}/results", stream_results, name="results")
    add_admin_routes(app, config.clean_prefix)
    return app
