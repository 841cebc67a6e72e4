"""The job's and the step phases' activity calls: one call, or one per shard merged
(workflow code).

``StepRunner`` (step_phases.py) decides which phase runs when; this base class says how each
phase's activity is called: timeouts, retry policy, summary and, for the phases a job may
shard, the fan-out over its shards.
"""

from __future__ import annotations

from collections.abc import Callable
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
        CallbackOutput,
        CollectResultsOutput,
        FinalizeJobInput,
        FinalizeJobOutput,
        JobRef,
        LLMBatchRef,
        PersistStepInput,
        PersistStepOutput,
        RunToolsOutput,
        SettleStepInput,
        SettleStepOutput,
        Shard,
        StartJobOutput,
    )
    from workflows import settings
    from workflows.sharded import each_shard, merged, shard_label

R = TypeVar("R", bound=BaseModel)
In = TypeVar("In", bound=BaseModel)


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
        task_queue: str | None = None,
    ) -> R:
        result: Any = await workflow.execute_activity(
            name,
            arg,
            result_type=result_type,
            task_queue=task_queue,
            start_to_close_timeout=start_to_close,
            heartbeat_timeout=settings.HEARTBEAT_TIMEOUT,
            retry_policy=retry,
            summary=summary,
        )
        return result

    # --- job-level -----------------------------------------------------------------------

    async def start_job(self, ref: JobRef) -> StartJobOutput:
        return await self._call(
            "start_job",
            ref,
            StartJobOutput,
            start_to_close=settings.FINALIZE_TIMEOUT,
            summary=f"start job {ref.job_id}",
        )

    async def finalize(self, arg: FinalizeJobInput) -> FinalizeJobOutput:
        return await self._call(
            "finalize_job",
            arg,
            FinalizeJobOutput,
            start_to_close=settings.FINALIZE_TIMEOUT,
            summary="finalize job" + (" (cancelled)" if arg.cancelled else ""),
        )

    async def send_callback(self) -> CallbackOutput:
        return await self._call(
            "send_callback",
            JobRef(job_id=self.input.job_id, organization_id=self.org),
            CallbackOutput,
            start_to_close=settings.CALLBACK_TIMEOUT,
            retry=settings.CALLBACK_RETRY,
            summary="POST completion callback",
        )

    # --- step phases ---------------------------------------------------------------------

    async def _sharded(
        self,
        name: str,
        arg_for: Callable[[Shard], BaseModel],
        result_type: type[R],
        *,
        start_to_close: timedelta,
        retry: RetryPolicy = settings.DB_RETRY,
        summary: str,
    ) -> R:
        """``name`` once per shard of the job (one plain call with a single shard), merged;
        each call's summary names its shard. Several shards run on the shard task queue."""
        task_queue = None
        if self.input.shards > 1 and workflow.patched(settings.SHARD_QUEUE_PATCH):
            task_queue = settings.shard_task_queue(workflow.info().task_queue)

        async def one(shard: Shard) -> R:
            return await self._call(
                name,
                arg_for(shard),
                result_type,
                start_to_close=start_to_close,
                retry=retry,
                summary=summary + shard_label(shard),
                task_queue=task_queue,
            )

        return merged(await each_shard(self.input.shards, one))

    async def _build(self) -> BuildRequestsOutput:
        return await self._sharded(
            "build_requests",
            lambda shard: BuildRequestsInput(
                job_id=self.input.job_id,
                organization_id=self.org,
                step=self.step,
                max_steps=self.input.max_steps,
                shard=shard,
            ),
            BuildRequestsOutput,
            start_to_close=settings.BUILD_TIMEOUT,
            summary=f"build requests for step {self.step + 1}",
        )

    async def _collect(self, ref: LLMBatchRef) -> CollectResultsOutput:
        return await self._sharded(
            "collect_results",
            lambda shard: ref.model_copy(update={"shard": shard}),
            CollectResultsOutput,
            start_to_close=settings.COLLECT_TIMEOUT,
            retry=settings.PROVIDER_RETRY,
            summary=f"collect results of step {self.step + 1}",
        )

    def _item_phase_input(
        self, model: type[In], ref: LLMBatchRef, **extra: object
    ) -> Callable[[Shard], In]:
        """Each shard's input of a phase over the step's items (decide, settle, persist)."""

        def for_shard(shard: Shard) -> In:
            return model(
                llm_batch_id=ref.llm_batch_id,
                organization_id=self.org,
                max_steps=self.input.max_steps,
                shard=shard,
                **extra,
            )

        return for_shard

    async def _decide(self, ref: LLMBatchRef) -> ApplyDecisionsOutput:
        return await self._sharded(
            "apply_decisions",
            self._item_phase_input(ApplyDecisionsInput, ref),
            ApplyDecisionsOutput,
            start_to_close=settings.DECIDE_TIMEOUT,
            summary=f"apply decisions of step {self.step + 1}",
        )

    async def _settle(self, ref: LLMBatchRef) -> SettleStepOutput:
        return await self._sharded(
            "settle_step",
            self._item_phase_input(SettleStepInput, ref),
            SettleStepOutput,
            start_to_close=settings.SETTLE_TIMEOUT,
            summary=f"settle step {self.step + 1} (decide, built-in tools, persist)",
        )

    async def _builtin_tools(self, ref: LLMBatchRef) -> RunToolsOutput:
        return await self._sharded(
            "run_builtin_tools",
            lambda shard: ref.model_copy(update={"shard": shard}),
            RunToolsOutput,
            start_to_close=settings.TOOLS_TIMEOUT,
            summary=f"run built-in tools of step {self.step + 1}",
        )

    async def _persist(self, ref: LLMBatchRef, *, after_settle: bool) -> PersistStepOutput:
        return await self._sharded(
            "persist_step",
            self._item_phase_input(PersistStepInput, ref, after_settle=after_settle),
            PersistStepOutput,
            start_to_close=settings.PERSIST_TIMEOUT,
            summary=f"persist step {self.step + 1}",
        )
