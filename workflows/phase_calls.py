"""The step phases as activity calls: one call, or one per shard merged (workflow code).

``StepRunner`` (step_phases.py) decides which phase runs when; this base class says how each
phase's activity is called: timeouts, retry policy, summary and, for the phases a job may
shard, the fan-out over its shards.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from letta_batch.contracts import (
        ApplyDecisionsInput,
        ApplyDecisionsOutput,
        BatchJobInput,
        BuildRequestsInput,
        BuildRequestsOutput,
        CollectResultsOutput,
        LLMBatchRef,
        PersistStepInput,
        PersistStepOutput,
        RunToolsOutput,
        Shard,
    )
    from workflows import settings
    from workflows.sharded import each_shard, merged, shard_label

R = TypeVar("R", bound=BaseModel)


class PhaseCalls:
    """Activity calls of the step loop; subclasses set ``input``, ``org`` and ``step``."""

    input: BatchJobInput
    org: str
    step: int

    async def _call(
        self,
        name: str,
        arg: BaseModel,
        result_type: type[R],
        *,
        start_to_close: timedelta,
        retry: RetryPolicy = settings.DB_RETRY,
        summary: str,
    ) -> R:
        result: Any = await workflow.execute_activity(
            name,
            arg,
            result_type=result_type,
            start_to_close_timeout=start_to_close,
            heartbeat_timeout=settings.HEARTBEAT_TIMEOUT,
            retry_policy=retry,
            summary=summary,
        )
        return result

    async def _sharded(self, call: Callable[[Shard], Awaitable[R]]) -> R:
        """A phase over the job's shards (one plain call with a single shard), merged."""
        return merged(await each_shard(self.input.shards, call))

    async def _build(self) -> BuildRequestsOutput:
        async def shard_call(shard: Shard) -> BuildRequestsOutput:
            return await self._call(
                "build_requests",
                BuildRequestsInput(
                    job_id=self.input.job_id,
                    organization_id=self.org,
                    step=self.step,
                    max_steps=self.input.max_steps,
                    shard=shard,
                ),
                BuildRequestsOutput,
                start_to_close=settings.BUILD_TIMEOUT,
                summary=f"build requests for step {self.step + 1}{shard_label(shard)}",
            )

        return await self._sharded(shard_call)

    async def _collect(self, ref: LLMBatchRef) -> CollectResultsOutput:
        async def shard_call(shard: Shard) -> CollectResultsOutput:
            return await self._call(
                "collect_results",
                ref.model_copy(update={"shard": shard}),
                CollectResultsOutput,
                start_to_close=settings.COLLECT_TIMEOUT,
                retry=settings.PROVIDER_RETRY,
                summary=f"collect results of step {self.step + 1}{shard_label(shard)}",
            )

        return await self._sharded(shard_call)

    async def _decide(self, ref: LLMBatchRef) -> ApplyDecisionsOutput:
        async def shard_call(shard: Shard) -> ApplyDecisionsOutput:
            return await self._call(
                "apply_decisions",
                ApplyDecisionsInput(
                    llm_batch_id=ref.llm_batch_id,
                    organization_id=self.org,
                    max_steps=self.input.max_steps,
                    shard=shard,
                ),
                ApplyDecisionsOutput,
                start_to_close=settings.DECIDE_TIMEOUT,
                summary=f"apply decisions of step {self.step + 1}{shard_label(shard)}",
            )

        return await self._sharded(shard_call)

    async def _builtin_tools(self, ref: LLMBatchRef) -> RunToolsOutput:
        async def shard_call(shard: Shard) -> RunToolsOutput:
            return await self._call(
                "run_builtin_tools",
                ref.model_copy(update={"shard": shard}),
                RunToolsOutput,
                start_to_close=settings.TOOLS_TIMEOUT,
                summary=f"run built-in tools of step {self.step + 1}{shard_label(shard)}",
            )

        return await self._sharded(shard_call)

    async def _persist(self, ref: LLMBatchRef) -> PersistStepOutput:
        async def shard_call(shard: Shard) -> PersistStepOutput:
            return await self._call(
                "persist_step",
                PersistStepInput(
                    llm_batch_id=ref.llm_batch_id,
                    organization_id=self.org,
                    max_steps=self.input.max_steps,
                    shard=shard,
                ),
                PersistStepOutput,
                start_to_close=settings.PERSIST_TIMEOUT,
                summary=f"persist step {self.step + 1}{shard_label(shard)}",
            )

        return await self._sharded(shard_call)
