"""The step loop's activities: one per phase, each a thin adapter over a service."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import structlog
from temporalio import activity

from activities.errors import translated
from letta_batch.contracts import (
    ApplyDecisionsInput,
    ApplyDecisionsOutput,
    BuildRequestsInput,
    BuildRequestsOutput,
    CallbackOutput,
    CancelProviderBatchOutput,
    CollectResultsOutput,
    CustomToolCallInput,
    CustomToolCallOutput,
    CustomToolPage,
    CustomToolPageInput,
    FinalizeJobInput,
    FinalizeJobOutput,
    JobRef,
    LLMBatchRef,
    PersistStepInput,
    PersistStepOutput,
    PollBatchOutput,
    RecordToolFailureInput,
    RunToolsOutput,
    SendBatchOutput,
    SettleStepInput,
    SettleStepOutput,
    StartJobOutput,
)
from letta_batch.services import build, collect, decide, jobs, persist, poll, send, settle, tools
from letta_batch.services.runtime import ServiceContext

T = TypeVar("T")

#: Activities heartbeat this often; the workflows' heartbeat timeout is 30 s.
HEARTBEAT_EVERY_SECONDS = 5.0


@asynccontextmanager
async def _heartbeating() -> Any:
    """Heartbeat in the background while a long phase runs (like ``auto_heartbeater``)."""

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(HEARTBEAT_EVERY_SECONDS)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()


class StepActivities:
    """Holds the worker's :class:`ServiceContext`; each method is one registered activity."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def _run(self, fn: Callable[..., Awaitable[T]], arg: Any, **log: Any) -> T:
        info = activity.info()
        structlog.contextvars.bind_contextvars(
            activity=info.activity_type, attempt=info.attempt, workflow_id=info.workflow_id, **log
        )
        try:
            if info.heartbeat_timeout:
                async with _heartbeating():
                    return await fn(self.ctx, arg)
            return await fn(self.ctx, arg)
        finally:
            structlog.contextvars.clear_contextvars()

    @activity.defn(name="start_job")
    @translated
    async def start_job(self, arg: JobRef) -> StartJobOutput:
        return await self._run(jobs.start_job, arg, job_id=arg.job_id)

    @activity.defn(name="build_requests")
    @translated
    async def build_requests(self, arg: BuildRequestsInput) -> BuildRequestsOutput:
        return await self._run(build.build_requests, arg, job_id=arg.job_id, step=arg.step)

    @activity.defn(name="send_batch")
    @translated
    async def send_batch(self, arg: LLMBatchRef) -> SendBatchOutput:
        return await self._run(send.send_batch, arg, llm_batch_id=arg.llm_batch_id)

    @activity.defn(name="poll_batch")
    @translated
    async def poll_batch(self, arg: LLMBatchRef) -> PollBatchOutput:
        return await self._run(poll.poll_batch, arg, llm_batch_id=arg.llm_batch_id)

    @activity.defn(name="cancel_provider_batch")
    @translated
    async def cancel_provider_batch(self, arg: LLMBatchRef) -> CancelProviderBatchOutput:
        return await self._run(poll.cancel_provider_batch, arg, llm_batch_id=arg.llm_batch_id)

    @activity.defn(name="collect_results")
    @translated
    async def collect_results(self, arg: LLMBatchRef) -> CollectResultsOutput:
        return await self._run(collect.collect_results, arg, llm_batch_id=arg.llm_batch_id)

    @activity.defn(name="apply_decisions")
    @translated
    async def apply_decisions(self, arg: ApplyDecisionsInput) -> ApplyDecisionsOutput:
        return await self._run(decide.apply_decisions, arg, llm_batch_id=arg.llm_batch_id)

    @activity.defn(name="settle_step")
    @translated
    async def settle_step(self, arg: SettleStepInput) -> SettleStepOutput:
        return await self._run(settle.settle_step, arg, llm_batch_id=arg.llm_batch_id)

    @activity.defn(name="run_builtin_tools")
    @translated
    async def run_builtin_tools(self, arg: LLMBatchRef) -> RunToolsOutput:
        return await self._run(tools.run_builtin_tools, arg, llm_batch_id=arg.llm_batch_id)

    @activity.defn(name="list_custom_tool_calls")
    @translated
    async def list_custom_tool_calls(self, arg: CustomToolPageInput) -> CustomToolPage:
        return await self._run(tools.list_custom_tool_calls, arg, llm_batch_id=arg.llm_batch_id)

    @activity.defn(name="run_custom_tool")
    @translated
    async def run_custom_tool(self, arg: CustomToolCallInput) -> CustomToolCallOutput:
        return await self._run(tools.run_custom_tool, arg, execution_id=arg.execution_id)

    @activity.defn(name="record_tool_failure")
    @translated
    async def record_tool_failure(self, arg: RecordToolFailureInput) -> CustomToolCallOutput:
        return await self._run(tools.record_tool_failure, arg, execution_id=arg.execution_id)

    @activity.defn(name="persist_step")
    @translated
    async def persist_step(self, arg: PersistStepInput) -> PersistStepOutput:
        return await self._run(persist.persist_step, arg, llm_batch_id=arg.llm_batch_id)

    @activity.defn(name="finalize_job")
    @translated
    async def finalize_job(self, arg: FinalizeJobInput) -> FinalizeJobOutput:
        return await self._run(jobs.finalize_job, arg, job_id=arg.job_id)

    @activity.defn(name="send_callback")
    @translated
    async def send_callback(self, arg: JobRef) -> CallbackOutput:
        return await self._run(jobs.send_callback, arg, job_id=arg.job_id)

    def all(self) -> list[Callable[..., Any]]:
        """Every activity method, for ``Worker(activities=...)``."""
        return [
            self.start_job,
            self.build_requests,
            self.send_batch,
            self.poll_batch,
            self.cancel_provider_batch,
            self.collect_results,
            self.apply_decisions,
            self.settle_step,
            self.run_builtin_tools,
            self.list_custom_tool_calls,
            self.run_custom_tool,
            self.record_tool_failure,
            self.persist_step,
            self.finalize_job,
            self.send_callback,
        ]

    def sharded(self) -> list[Callable[..., Any]]:
        """The phases a job with several shards runs once per shard (``workflows/sharded.py``),
        for the worker on the shard task queue."""
        return [
            self.build_requests,
            self.collect_results,
            self.apply_decisions,
            self.settle_step,
            self.run_builtin_tools,
            self.persist_step,
        ]
