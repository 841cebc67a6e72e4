"""Model → provider lookup used by submit validation."""

from __future__ import annotations

import pytest

from letta_batch.providers.registry import ModelNotServedError, provider_for_model, require_provider
from letta_batch.schemas import LLMConfig


@pytest.mark.parametrize(
    ("model", "endpoint", "expected"),
    [
        ("claude-sonnet-4-5", "anthropic", "anthropic"),
        ("anthropic/claude-opus-4-1-20250805", "anthropic", "anthropic"),
        ("claude-3-5-haiku-20241022", "anthropic", "anthropic"),
        ("gpt-4o", "anthropic", None),
        ("claude-sonnet-4-5", "bedrock", None),
        ("gpt-4o", "openai", None),
    ],
)
def test_provider_for_model(model: str, endpoint: str, expected: str | None) -> None:
    assert provider_for_model(LLMConfig(model=model, model_endpoint_type=endpoint)) == expected


def test_only_configured_providers_serve() -> None:
    cfg = LLMConfig(model="claude-sonnet-4-5")
    assert provider_for_model(cfg, configured=[]) is None
    assert provider_for_model(cfg, configured=["anthropic"]) == "anthropic"
    assert require_provider(cfg) == "anthropic"


def test_model_not_served_names_the_model() -> None:
    cfg = LLMConfig(model="gpt-4o-mini", model_endpoint_type="openai")
    with pytest.raises(ModelNotServedError, match="gpt-4o-mini") as exc:
        require_provider(cfg)
    assert "openai" in str(exc.value) and isinstance(exc.value, ValueError)
    assert exc.value.model == "gpt-4o-mini"
