"""``ToolFanoutWorkflow``: runs one step's custom tool calls with bounded concurrency.

Each call is its own activity so Temporal applies the tool's own ``RetryPolicy``; running them
in a child keeps those events out of the job's history (the job sees one child per step). The
child pages through pending calls and continues as new between pages, like the
``batch_sliding_window`` sample, so its own history stays bounded too.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from letta_batch.contracts import (
        CustomToolCallInput,
        CustomToolCallOutput,
        CustomToolCallRef,
        CustomToolPage,
        CustomToolPageInput,
        RecordToolFailureInput,
        ToolFanoutInput,
        ToolFanoutOutput,
    )
    from workflows import settings

#: A sandbox attempt may run up to the tool's timeout; this adds room for start-up.
_SANDBOX_OVERHEAD = timedelta(seconds=30)


@workflow.defn
class ToolFanoutWorkflow:
    """Sliding window over one step's custom tool calls."""

    @workflow.run
    async def run(self, input: ToolFanoutInput) -> ToolFanoutOutput:
        page: CustomToolPage = await workflow.execute_activity(
            "list_custom_tool_calls",
            CustomToolPageInput(
                llm_batch_id=input.llm_batch_id,
                organization_id=input.organization_id,
                after_id=input.after_id,
                limit=input.page_size,
            ),
            result_type=CustomToolPage,
            start_to_close_timeout=settings.FINALIZE_TIMEOUT,
            heartbeat_timeout=settings.HEARTBEAT_TIMEOUT,
            retry_policy=settings.DB_RETRY,
            summary="list pending custom tool calls",
        )
        completed, failed = input.completed, input.failed
        window = asyncio.Semaphore(max(1, input.max_concurrent))

        async def run_one(call: CustomToolCallRef) -> bool:
            async with window:
                return await self._run_call(call, input.organization_id)

        outcomes = await asyncio.gather(*(run_one(c) for c in page.calls))
        completed += sum(1 for ok in outcomes if ok)
        failed += sum(1 for ok in outcomes if not ok)
        if page.next_after_id is not None:
            workflow.continue_as_new(
                input.model_copy(
                    update={
                        "after_id": page.next_after_id,
                        "completed": completed,
                        "failed": failed,
                    }
                )
            )
        return ToolFanoutOutput(completed=completed, failed=failed)

    async def _run_call(self, call: CustomToolCallRef, organization_id: str) -> bool:
        try:
            result: CustomToolCallOutput = await workflow.execute_activity(
                "run_custom_tool",
                CustomToolCallInput(
                    execution_id=call.execution_id, organization_id=organization_id
                ),
                result_type=CustomToolCallOutput,
                start_to_close_timeout=timedelta(seconds=call.timeout_seconds) + _SANDBOX_OVERHEAD,
                heartbeat_timeout=settings.HEARTBEAT_TIMEOUT,
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(seconds=call.initial_interval_seconds),
                    backoff_coefficient=call.backoff_coefficient,
                    maximum_interval=timedelta(seconds=call.maximum_interval_seconds),
                    maximum_attempts=call.max_attempts,
                    non_retryable_error_types=["NonRetryable"],
                ),
                summary=f"tool {call.tool_name}",
            )
            return result.status == "success"
        except ActivityError as err:
            # Retries exhausted (crash, timeout, lost worker): fail this call, not the job.
            await workflow.execute_activity(
                "record_tool_failure",
                RecordToolFailureInput(
                    execution_id=call.execution_id,
                    organization_id=organization_id,
                    reason=str(err.cause or err),
                ),
                start_to_close_timeout=settings.FINALIZE_TIMEOUT,
                heartbeat_timeout=settings.HEARTBEAT_TIMEOUT,
                retry_policy=settings.DB_RETRY,
                summary=f"record failure of tool {call.tool_name}",
            )
            return False
