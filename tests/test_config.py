"""Settings read from the environment: batch limits are optional and validated by name."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from letta_batch.config import Settings
from letta_batch.providers.anthropic.batch_body import LIMITS
from letta_batch.services.runtime import NonRetryable, ServiceContext


def test_batch_limits_default_to_the_providers() -> None:
    settings = Settings.from_env({})
    assert (settings.batch_max_requests, settings.batch_max_bytes) == (None, None)


def test_batch_limits_from_the_environment() -> None:
    settings = Settings.from_env(
        {"LETTA_BATCH_MAX_REQUESTS": "50000", "LETTA_BATCH_MAX_BYTES": "100000000"}
    )
    assert (settings.batch_max_requests, settings.batch_max_bytes) == (50_000, 100_000_000)


@pytest.mark.parametrize(
    ("variable", "value", "field"),
    [
        ("LETTA_BATCH_MAX_REQUESTS", "many", "batch_max_requests"),
        ("LETTA_BATCH_MAX_REQUESTS", "0", "batch_max_requests"),
        ("LETTA_BATCH_MAX_BYTES", "-5", "batch_max_bytes"),
    ],
)
def test_a_bad_limit_names_its_field_and_value(variable: str, value: str, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings.from_env({variable: value})
    assert field in str(caught.value) and value in str(caught.value)


def test_service_context_narrows_the_provider_limits() -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine("sqlite+aiosqlite://")
    ctx = ServiceContext(engine=engine, settings=Settings(batch_max_requests=10))
    limits = ctx.batch_limits("anthropic")
    assert (limits.max_requests, limits.max_bytes) == (10, LIMITS.max_bytes)
    with pytest.raises(NonRetryable, match="llm_provider"):
        ctx.batch_limits("openai")
