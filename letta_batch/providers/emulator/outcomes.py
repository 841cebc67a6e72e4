"""Per-request outcome decisions and result-row rendering.

A request's *natural* outcome is decided once, at create time, from (in this order) deferred
params validation, the scenario, and fraction faults. Cancel/expiry later overwrite
unfinished requests with `canceled`/`expired`. Rows are rendered lazily while streaming:
the same precedence re-derives the error or the message from the stored params bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from letta_batch import json_codec

from .clock import derived_id
from .config import EmulatorConfig
from .faults import OutcomeFault
from .model import SyntheticModel
from .scenario import Scenario, reply_outcome
from .stored_params import StoredParams
from .validation import RowError, validate_params

SUCCEEDED, ERRORED, CANCELED, EXPIRED = 0, 1, 2, 3
CODE_NAMES = ("succeeded", "errored", "canceled", "expired")
CODES = {name: code for code, name in enumerate(CODE_NAMES)}


@dataclass(frozen=True)
class BatchContext:
    """What a batch froze at creation: config, scenario and fraction faults."""

    config: EmulatorConfig
    scenario: Scenario | None
    fault: OutcomeFault | None

    def reply(self, custom_id: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """The scripted reply for a request (None -> synthetic model)."""
        return self.scenario.match(custom_id, params) if self.scenario else None

    def user_id(self, params: dict[str, Any]) -> str | None:
        """params.metadata.user_id (or the scenario's configured key), for the admin view."""
        if self.scenario is not None:
            return self.scenario.user_id(params)
        metadata = params.get("metadata")
        value = metadata.get("user_id") if isinstance(metadata, dict) else None
        return value if isinstance(value, str) else None

    def natural_code(self, custom_id: str, params: dict[str, Any]) -> int:
        """The outcome the request gets if it finishes before cancel/expiry."""
        if validate_params(params, self.config) is not None:
            return ERRORED
        scripted = reply_outcome(self.reply(custom_id, params))
        if scripted != "succeeded":
            return CODES[scripted]
        faulted = self.fault.outcome(custom_id) if self.fault else None
        return CODES[faulted] if faulted else SUCCEEDED

    def row_error(self, custom_id: str, params: dict[str, Any]) -> tuple[RowError, str | None]:
        """Error of an errored row and its request_id (None for validation failures)."""
        problem = validate_params(params, self.config)
        if problem is not None:
            return problem, None
        worker_id = derived_id("workerreq_", custom_id)
        reply = self.reply(custom_id, params)
        if reply is not None and "error" in reply:
            err = reply["error"]
            return RowError(
                str(err.get("type", "api_error")), str(err.get("message", "Internal server error"))
            ), worker_id
        fault = self.fault or OutcomeFault()
        return RowError(fault.error_type, fault.error_message), worker_id


class RowRenderer:
    """Turns a request (its custom id, stored params and outcome) into one JSONL line."""

    def __init__(self, batch_id: str, ctx: BatchContext) -> None:
        self.batch_id = batch_id
        self.ctx = ctx
        self.model = SyntheticModel(ctx.config)

    def row(self, custom_id: str, stored: StoredParams, i: int, code: int) -> dict[str, Any]:
        """The MessageBatchIndividualResponse dict of request ``i``."""
        if code in (CANCELED, EXPIRED):
            return {"custom_id": custom_id, "result": {"type": CODE_NAMES[code]}}
        params = stored.parsed(i)
        if code == ERRORED:
            problem, request_id = self.ctx.row_error(custom_id, params)
            error = {
                "type": "error",
                "error": {"type": problem.type, "message": problem.message},
                "request_id": request_id,
            }
            return {"custom_id": custom_id, "result": {"type": "errored", "error": error}}
        message = self.model.message(
            custom_id,
            params,
            stored.canonical(i),
            derived_id("msg_", self.batch_id, custom_id),
            self.ctx.reply(custom_id, params),
        )
        return {"custom_id": custom_id, "result": {"type": "succeeded", "message": message}}

    def line(self, custom_id: str, stored: StoredParams, i: int, code: int) -> bytes:
        """One JSONL line; JSON escapes newlines in strings, so a row never spans two lines."""
        return json_codec.dumps_bytes(self.row(custom_id, stored, i, code)) + b"\n"
