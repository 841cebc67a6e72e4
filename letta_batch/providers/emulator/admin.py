"""Control API under `/_admin/` (also under the path prefix when one is configured).

No authentication, no faults. Endpoints:

- `GET  /_admin/batches[?requests=false]` – every batch ever created, oldest first, deleted
  ones included: id, created_at, status, deleted, request_counts, custom_ids and per request
  `{custom_id, user_id, outcome}` (user_id = params.metadata.user_id), and `accept_seconds`
  (time spent accepting the create call after its body arrived) and `results_seconds` (CPU
  time spent rendering its results): the provider's own work, which benchmarks set apart.
- `GET  /_admin/batches/{id}` – one of those.
- `POST /_admin/batches/{id}/end` – finish now (natural outcomes).
- `POST /_admin/batches/{id}/expire` – finish now as expired; body `{"all": false}` expires
  only requests not yet finished by the processing clock (default: all).
- `GET  /_admin/clock`, `POST /_admin/clock/advance {"seconds": N}` – emulated time.
- `GET|POST|PUT|DELETE /_admin/faults` – list / add / replace / clear fault rules; body is the
  JSON form, or `{"spec": "create:429:times=1,..."}` for the compact form.
- `GET|PUT|DELETE /_admin/scenario` – show / replace (JSON body) / remove the scenario.
- `GET|DELETE /_admin/requests` – log of API requests (endpoint, status, retry count, …).
- `POST /_admin/reset` – forget batches, faults, request log and clock offset.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .errors import ApiError
from .faults import parse_faults
from .scenario import Scenario
from .state import REQUEST_ID, state_of


def _ok(request: web.Request, data: Any) -> web.Response:
    return web.json_response(data, headers={"request-id": request[REQUEST_ID]})


async def _body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, f"The request body is not valid JSON: {exc}") from None


async def list_batches(request: web.Request) -> web.Response:
    """All batches, oldest first."""
    state = state_of(request)
    with_requests = request.query.get("requests", "true").lower() not in ("0", "false", "no")
    data = [state.store.summary(b, requests=with_requests) for b in state.store.order]
    return _ok(request, {"data": data})


async def get_batch(request: web.Request) -> web.Response:
    """One batch (deleted ones too)."""
    state = state_of(request)
    batch = state.store.get(request.match_info["batch_id"], include_deleted=True)
    return _ok(request, state.store.summary(batch))


async def end_batch(request: web.Request) -> web.Response:
    """Force a batch to end now."""
    state = state_of(request)
    batch = state.store.force_end(request.match_info["batch_id"])
    return _ok(request, state.batch_json(batch, request))


async def expire_batch(request: web.Request) -> web.Response:
    """Force a batch to expire now."""
    state = state_of(request)
    body = await _body(request)
    every = bool(body.get("all", True)) if isinstance(body, dict) else True
    batch = state.store.force_expire(request.match_info["batch_id"], all_requests=every)
    return _ok(request, state.batch_json(batch, request))


async def clock(request: web.Request) -> web.Response:
    """Current emulated time."""
    state = state_of(request)
    return _ok(
        request,
        {
            "now": state.clock.now().isoformat(),
            "offset_seconds": state.clock.offset.total_seconds(),
        },
    )


async def advance(request: web.Request) -> web.Response:
    """Move emulated time forward by `seconds`."""
    state = state_of(request)
    body = await _body(request)
    try:
        state.clock.advance(float(body.get("seconds", 0)))
    except (TypeError, ValueError, AttributeError) as exc:
        raise ApiError(400, f"seconds: {exc}") from None
    return await clock(request)


async def faults(request: web.Request) -> web.Response:
    """List (GET), add (POST), replace (PUT) or clear (DELETE) fault rules."""
    state = state_of(request)
    if request.method in ("POST", "PUT"):
        body = await _body(request)
        spec = body.get("spec") if isinstance(body, dict) and "spec" in body else body
        try:
            rules = parse_faults(spec)
        except (ValueError, TypeError) as exc:
            raise ApiError(400, f"faults: {exc}") from None
        if request.method == "PUT":
            state.faults.clear()
        state.faults.add(rules)
    elif request.method == "DELETE":
        state.faults.clear()
    return _ok(request, {"rules": state.faults.to_json()})


async def scenario(request: web.Request) -> web.Response:
    """Show (GET), replace (PUT/POST) or remove (DELETE) the scenario for new batches."""
    state = state_of(request)
    if request.method in ("PUT", "POST"):
        try:
            state.scenario = Scenario.from_data(await _body(request))
        except ValueError as exc:
            raise ApiError(400, f"scenario: {exc}") from None
    elif request.method == "DELETE":
        state.scenario = None
    current = state.scenario
    rules = [{"match": r.match, "reply": r.reply} for r in current.rules] if current else []
    return _ok(request, {"rules": rules, "default": current.default if current else None})


async def requests_log(request: web.Request) -> web.Response:
    """The API request log (GET) or clear it (DELETE)."""
    state = state_of(request)
    if request.method == "DELETE":
        state.request_log.clear()
    return _ok(request, {"data": list(state.request_log)})


async def reset(request: web.Request) -> web.Response:
    """Forget everything except config and scenario."""
    state_of(request).reset()
    return _ok(request, {"ok": True})


async def health(request: web.Request) -> web.Response:
    """Liveness probe."""
    return _ok(request, {"ok": True})


def add_admin_routes(app: web.Application, prefix: str) -> None:
    """Register the admin API at `/_admin` and, with a prefix, at `{prefix}/_admin`."""
    for base in dict.fromkeys(["/_admin", f"{prefix}/_admin"]):
        r = app.router
        r.add_get(f"{base}/batches", list_batches)
        r.add_get(f"{base}/batches/{{batch_id}}", get_batch)
        r.add_post(f"{base}/batches/{{batch_id}}/end", end_batch)
        r.add_post(f"{base}/batches/{{batch_id}}/expire", expire_batch)
        r.add_get(f"{base}/clock", clock)
        r.add_post(f"{base}/clock/advance", advance)
        r.add_route("*", f"{base}/faults", faults)
        r.add_route("*", f"{base}/scenario", scenario)
        r.add_route("*", f"{base}/requests", requests_log)
        r.add_post(f"{base}/reset", reset)
        r.add_get(f"{base}/health", health)
