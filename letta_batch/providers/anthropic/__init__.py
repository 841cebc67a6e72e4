"""Anthropic Message Batches adapter: request building, the batch client, results reading."""

from letta_batch.providers.anthropic.batch_body import (
    MAX_BATCH_BYTES,
    MAX_BATCH_REQUESTS,
    BatchBody,
    build_body,
)
from letta_batch.providers.anthropic.client import (
    EMULATOR_DUMMY_KEY,
    AnthropicBatchProvider,
    batch_info,
)
from letta_batch.providers.anthropic.request_builder import (
    build_request_params,
    is_reasoning_model,
    thinking_config,
)
from letta_batch.providers.anthropic.results import iter_jsonl_rows

__all__ = [
    "EMULATOR_DUMMY_KEY",
    "MAX_BATCH_BYTES",
    "MAX_BATCH_REQUESTS",
    "AnthropicBatchProvider",
    "BatchBody",
    "batch_info",
    "build_body",
    "build_request_params",
    "is_reasoning_model",
    "iter_jsonl_rows",
    "thinking_config",
]
