"""Map domain and provider failures to Temporal ``ApplicationError``s (one place)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import wraps
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from letta_batch.providers.errors import ProviderError
from letta_batch.services.jobs import CallbackFailed
from letta_batch.services.runtime import InvalidJobState, NonRetryable

P = ParamSpec("P")
R = TypeVar("R")


def to_application_error(exc: BaseException) -> BaseException:
    """The Temporal failure for ``exc``: retryable unless nothing a retry could fix it."""
    if isinstance(exc, ApplicationError):
        return exc
    if isinstance(exc, ProviderError):
        return ApplicationError(
            str(exc),
            type="ProviderError" if exc.retryable else "ProviderNonRetryable",
            non_retryable=not exc.retryable,
            next_retry_delay=timedelta(seconds=exc.retry_after) if exc.retry_after else None,
        )
    if isinstance(exc, InvalidJobState):
        return ApplicationError(str(exc), type="InvalidJobState", non_retryable=True)
    if isinstance(exc, NonRetryable):
        return ApplicationError(str(exc), type="NonRetryable", non_retryable=True)
    if isinstance(exc, CallbackFailed):
        return ApplicationError(
            str(exc), type="CallbackFailed", category=ApplicationErrorCategory.BENIGN
        )
    if isinstance(exc, OperationalError | DBAPIError):
        # Connection loss, server restart, deadlock: transient, the policy retries.
        return ApplicationError(
            f"database error: {exc.__class__.__name__}: {exc}"[:2000], type="DatabaseError"
        )
    return exc


def translated(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Decorator: run ``fn`` and translate whatever it raises."""

    @wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except Exception as exc:
            mapped = to_application_error(exc)
            if mapped is exc:
                raise
            activity.logger.warning("activity failed: %s", mapped)
            if isinstance(exc, OperationalError | DBAPIError):
                # The driver's exception chain (~10 KB of stack traces) would push the failure
                # over the server's 4 KB limit for a retrying activity's last failure, which is
                # then shown as "Failure exceeds size limit.": the chain goes to the log only.
                activity.logger.warning("database error detail", exc_info=exc)
                raise mapped from None
            raise mapped from exc

    return wrapper


def attempt() -> int:
    return activity.info().attempt


__all__ = ["attempt", "to_application_error", "translated"]
