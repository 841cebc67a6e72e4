"""Which configured provider serves a model (submit validation, provider construction).

Only Anthropic has a batch adapter (as in Letta). A model is served when its
``model_endpoint_type`` is one the provider accepts *and* its name matches the provider's
model patterns, so e.g. ``openai``/``gpt-4o`` or ``anthropic``/``gpt-4o`` are refused at
submit time with `ModelNotServedError` instead of failing inside a provider batch.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass

from letta_batch.providers.anthropic.batch_body import LIMITS as ANTHROPIC_LIMITS
from letta_batch.providers.base import BatchLimits
from letta_batch.schemas.agent import LLMConfig


@dataclass(frozen=True)
class ProviderSpec:
    """What one provider adapter serves."""

    name: str
    endpoint_types: frozenset[str]
    """``llm_config.model_endpoint_type`` values routed to this provider."""
    model_patterns: tuple[str, ...]
    """fnmatch patterns of model names (without any ``provider/`` prefix)."""
    limits: BatchLimits
    """What one of its batches may hold; ``build`` splits larger steps into parts."""

    def serves(self, llm_config: LLMConfig) -> bool:
        if llm_config.model_endpoint_type not in self.endpoint_types:
            return False
        model = llm_config.provider_model
        return any(fnmatch.fnmatchcase(model, p) for p in self.model_patterns)


PROVIDERS: dict[str, ProviderSpec] = {
    "anthropic": ProviderSpec(
        name="anthropic",
        endpoint_types=frozenset({"anthropic"}),
        model_patterns=("claude-*",),
        limits=ANTHROPIC_LIMITS,
    ),
}


class ModelNotServedError(ValueError):
    """No configured batch provider serves this model."""

    def __init__(self, llm_config: LLMConfig, configured: Iterable[str]) -> None:
        self.model = llm_config.model
        self.model_endpoint_type = llm_config.model_endpoint_type
        names = ", ".join(sorted(configured)) or "none"
        super().__init__(
            f"model {llm_config.model!r} (endpoint type {llm_config.model_endpoint_type!r}) "
            f"is not served by any configured batch provider (configured: {names}); "
            "batch stepping supports Anthropic Claude models only"
        )


def provider_for_model(
    llm_config: LLMConfig, configured: Iterable[str] | None = None
) -> str | None:
    """Name of the provider serving `llm_config` (``"anthropic"``), or None.

    `configured` limits the search to the providers set up in this deployment (default: all).
    """
    names = PROVIDERS.keys() if configured is None else configured
    for name in names:
        spec = PROVIDERS.get(name)
        if spec is not None and spec.serves(llm_config):
            return name
    return None


def require_provider(llm_config: LLMConfig, configured: Iterable[str] | None = None) -> str:
    """Like `provider_for_model` but raises `ModelNotServedError` naming the model."""
    names = list(PROVIDERS.keys() if configured is None else configured)
    name = provider_for_model(llm_config, names)
    if name is None:
        raise ModelNotServedError(llm_config, names)
    return name
