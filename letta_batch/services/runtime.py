"""What every service needs: a session factory, provider clients and a clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from letta_batch.config import Settings

if TYPE_CHECKING:
    from letta_batch.providers.base import BatchLimits, BatchProvider


def utcnow() -> datetime:
    return datetime.now(UTC)


class InvalidJobState(Exception):
    """A state transition the job's state machine does not allow (e.g. completed -> running)."""


class NonRetryable(Exception):
    """A failure no retry can fix (bad data); activities surface it as non-retryable."""


@dataclass
class ServiceContext:
    """Dependencies of the step-loop services, built once per worker."""

    engine: AsyncEngine
    settings: Settings
    clock: Callable[[], datetime] = utcnow
    _providers: dict[str, BatchProvider] = field(default_factory=dict)
    session_factory: async_sessionmaker[AsyncSession] = field(init=False)

    def __post_init__(self) -> None:
        self.session_factory = async_sessionmaker(self.engine, expire_on_commit=False)

    def provider(self, name: str) -> BatchProvider:
        """The batch client for ``name`` (one per worker, reused across activities)."""
        if name not in self._providers:
            if name != "anthropic":
                raise NonRetryable(f"llm_provider: no batch adapter for {name!r}")
            from letta_batch.providers.anthropic.client import AnthropicBatchProvider

            self._providers[name] = AnthropicBatchProvider(
                api_key=self.settings.anthropic_api_key,
                base_url=self.settings.anthropic_base_url,
            )
        return self._providers[name]

    def batch_limits(self, name: str) -> BatchLimits:
        """What one provider batch of ``name`` may hold here: the provider's limits, lowered
        by ``batch_max_requests`` / ``batch_max_bytes`` where those are set."""
        from letta_batch.providers.registry import PROVIDERS

        if name not in PROVIDERS:
            raise NonRetryable(f"llm_provider: no batch adapter for {name!r}")
        return PROVIDERS[name].limits.narrowed(
            self.settings.batch_max_requests, self.settings.batch_max_bytes
        )

    async def aclose(self) -> None:
        for provider in self._providers.values():
            await provider.aclose()
        self._providers.clear()
        await self.engine.dispose()
