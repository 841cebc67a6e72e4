"""Use cases the Temporal activities call: one module per phase of a step.

Services take a :class:`ServiceContext` (database, provider factory, clock) and ids; they never
import Temporal, so they are testable on their own.
"""

from letta_batch.services.runtime import ServiceContext

__all__ = ["ServiceContext"]
