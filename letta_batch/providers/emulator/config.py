"""Configuration of the Message Batches emulator.

Every knob that the spec marks as uncertain or that tests want to control lives here, so a
test can build one `EmulatorConfig` and hand it to `EmulatorServer` / `build_app`.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Literal

DAY_SECONDS = 86_400.0


@dataclass
class EmulatorConfig:
    """Behaviour of one emulator instance (all fields have live-API-like defaults)."""

    host: str = "127.0.0.1"
    """Interface to bind."""
    port: int = 0
    """TCP port; 0 picks a free ephemeral port (read it back from `EmulatorServer.port`)."""
    prefix: str = ""
    """Optional path prefix such as "/anthropic"; the SDK base_url must then include it."""
    processing_seconds: float = 0.0
    """Emulated time from create to end. 0 = the batch ends on the first access after create."""
    cancel_drain_seconds: float = 0.0
    """Time a `canceling` batch needs before it becomes `ended` (0 = next access)."""
    counts_mode: Literal["end", "incremental"] = "end"
    """"end": counters move only when the batch ends (documented behaviour);
    "incremental": `processing` decreases while requests finish (reported by a live capture)."""
    api_keys: tuple[str, ...] = ()
    """Accepted API keys (x-api-key or Bearer). Empty = no authentication at all."""
    max_body_bytes: int = 256 * 1024 * 1024
    """Create bodies above this size get 413 request_too_large."""
    max_requests: int = 100_000
    """Maximum number of requests per batch."""
    results_url_mode: Literal["absolute", "relative"] = "absolute"
    """absolute: results_url minted from the incoming Host header (+prefix); relative: a path."""
    known_models: tuple[str, ...] = ("claude-*",)
    """fnmatch patterns of model names the emulator serves."""
    unknown_models: tuple[str, ...] = ("claude-does-not-exist*",)
    """fnmatch patterns that are rejected (not_found_error) even if they match `known_models`."""
    max_output_tokens: int = 128_000
    """Model ceiling for `max_tokens`; above it a request is errored."""
    auto_tool_probability: float = 0.9
    """With tool_choice auto (and tools offered): chance that the reply calls a tool."""
    parallel_tool_probability: float = 0.2
    """Chance of a second tool_use block when parallel tool use is allowed."""
    heartbeat_probability: float = 0.5
    """Chance that a generated `request_heartbeat` property is true."""
    results_chunk_rows: int = 256
    """Rows rendered per streamed chunk of the results body."""
    expiry_seconds: float = DAY_SECONDS
    """expires_at - created_at."""
    archive_seconds: float = 29 * DAY_SECONDS
    """After this many seconds from creation results are gone (archived_at set)."""
    seed: str = ""
    """Mixed into the shuffle of results; change it to get a different (still fixed) order."""
    request_log_size: int = 2_000
    """How many API requests `GET /_admin/requests` remembers."""

    def model_is_known(self, model: str) -> bool:
        """True when `model` matches a known pattern and no unknown pattern."""
        if any(fnmatch.fnmatchcase(model, pat) for pat in self.unknown_models):
            return False
        return any(fnmatch.fnmatchcase(model, pat) for pat in self.known_models)

    @property
    def clean_prefix(self) -> str:
        """The prefix normalised to "" or "/something" without trailing slash."""
        p = self.prefix.strip().strip("/")
        return f"/{p}" if p else ""
