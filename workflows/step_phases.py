"""The step loop's phases, as activity calls and durable timers (workflow code: no I/O)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from letta_batch.contracts import (
        BatchJobInput,
        CancelProviderBatchOutput,
        LLMBatchRef,
        Phase,
        PollBatchOutput,
        SendBatchOutput,
        ToolFanoutInput,
        ToolFanoutOutput,
    )
    from workflows import settings
    from workflows.phase_calls import PhaseCalls
    from workflows.ui import poll_summary

if TYPE_CHECKING:
    from workflows.batch_job import BatchJobWorkflow


class StepRunner(PhaseCalls):
    """Runs steps for one workflow run, keeping the resume cursor for continue-as-new."""

    def __init__(self, wf: BatchJobWorkflow, input: BatchJobInput) -> None:
        self.wf = wf
        self.input = input
        self.org = input.organization_id
        self.step = input.step
        self.phase = input.phase
        self.llm_batch_id = input.llm_batch_id
        self.poll_interval = input.poll_interval_seconds

    def resume_input(self) -> BatchJobInput:
        """The continue-as-new input: job id plus the cursor, nothing else."""
        return self.input.model_copy(
            update={
                "step": self.step,
                "phase": self.phase,
                "llm_batch_id": self.llm_batch_id,
                "poll_interval_seconds": self.poll_interval,
                "run_index": self.input.run_index + 1,
                "cancel_requested": self.wf.cancel_requested,
            }
        )

    def _maybe_continue_as_new(self) -> None:
        from workflows.batch_job import ContinueAsNewNow

        info = workflow.info()
        if (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self.input.event_budget
        ):
            raise ContinueAsNewNow()

    def _enter(self, phase: Phase, **changes: object) -> None:
        self.phase = phase
        self.wf.set_phase(phase, self.step, **changes)

    # --- the loop ------------------------------------------------------------------------

    async def run_steps(self) -> int:
        """Run steps until no agent continues; returns the number of steps taken."""
        while True:
            if self.phase is Phase.build:
                if self.wf.cancel_requested:
                    return self.step
                self._maybe_continue_as_new()
                self._enter(
                    Phase.build,
                    llm_batch_id=None,
                    provider_batch_id=None,
                    provider_batches=0,
                    polls=0,
                    next_poll_seconds=None,
                )
                built = await self._build()
                if built.request_count == 0 and built.failed_count == 0:
                    return self.step
                self.llm_batch_id = built.llm_batch_id
                self.wf.update_progress(
                    llm_batch_id=built.llm_batch_id, agents_in_step=built.request_count
                )
                self.phase = Phase.send if built.request_count else Phase.decide
            assert self.llm_batch_id is not None
            ref = LLMBatchRef(llm_batch_id=self.llm_batch_id, organization_id=self.org)
            if self.phase is Phase.send:
                await self._send(ref)
            if self.phase is Phase.poll:
                await self._poll(ref)
            if self.phase is Phase.collect:
                self._enter(Phase.collect)
                await self._collect(ref)
                self.phase = Phase.decide
            if self.phase is Phase.decide and workflow.patched(settings.SETTLE_PATCH):
                if self._step_done(await self._settle_step(ref)):
                    return self.step
                continue
            if self.phase is Phase.decide:
                self._enter(Phase.decide)
                decided = await self._decide(ref)
                self.phase = Phase.tools
                if decided.builtin_calls or decided.custom_calls:
                    await self._tools(
                        ref, builtin=bool(decided.builtin_calls), custom=bool(decided.custom_calls)
                    )
                self.phase = Phase.persist
            if self.phase is Phase.tools:
                await self._tools(ref)
                self.phase = Phase.persist
            if self.phase is Phase.persist:
                self._enter(Phase.persist)
                persisted = await self._persist(ref, after_settle=False)
                if self._step_done(persisted.continuing):
                    return self.step

    async def _settle_step(self, ref: LLMBatchRef) -> int:
        """Settle the step; custom calls then go to the fan-out and persist. Returns the
        number of agents that continue."""
        self._enter(Phase.settle)
        settled = await self._settle(ref)
        if settled.custom_calls == 0:
            return settled.continuing
        self.phase = Phase.tools
        await self._tools(ref, builtin=False)  # settle ran the built-in calls
        self._enter(Phase.persist)
        return (await self._persist(ref, after_settle=True)).continuing

    def _step_done(self, continuing: int) -> bool:
        """The step is finished: move the cursor on; True when the job has no step left."""
        self.step += 1
        self.phase = Phase.build
        self.llm_batch_id = None
        return continuing == 0 or self.step >= self.input.max_steps

    async def _send(self, ref: LLMBatchRef) -> None:
        self._enter(Phase.send)
        sent = await self._call(
            "send_batch",
            ref,
            SendBatchOutput,
            start_to_close=settings.SEND_TIMEOUT,
            retry=settings.PROVIDER_RETRY,
            summary=f"send batch of step {self.step + 1}",
        )
        self.wf.update_progress(
            provider_batch_id=sent.provider_batch_id,
            provider_batches=sent.parts if sent.provider_batch_id else 0,
        )
        self.poll_interval = self.input.poll.initial_seconds
        # A batch the provider refused has no results: its agents are failed by collect.
        self.phase = Phase.poll if sent.provider_batch_id else Phase.collect

    async def _poll(self, ref: LLMBatchRef) -> None:
        polls = self.wf.progress_state.polls
        interval = self.poll_interval or self.input.poll.initial_seconds
        cancel_sent = False
        while True:
            self._enter(Phase.poll, polls=polls, next_poll_seconds=interval)
            if self.wf.cancel_requested and not cancel_sent:
                await self._call(
                    "cancel_provider_batch",
                    ref,
                    CancelProviderBatchOutput,
                    start_to_close=settings.POLL_TIMEOUT,
                    retry=settings.PROVIDER_RETRY,
                    summary=f"cancel provider batch {self.wf.progress_state.provider_batch_id}",
                )
                cancel_sent = True
                interval = min(interval, self.input.poll.initial_seconds)

            def cancel_not_sent(sent: bool = cancel_sent) -> bool:
                return self.wf.cancel_requested and not sent

            try:
                await workflow.wait_condition(
                    cancel_not_sent,
                    timeout=timedelta(seconds=interval),
                    timeout_summary=poll_summary(
                        self.wf.progress_state.provider_batch_id, polls + 1, interval
                    ),
                )
                continue  # woken by a cancel request: cancel the provider batch first
            except TimeoutError:
                pass
            polls += 1
            polled = await self._call(
                "poll_batch",
                ref,
                PollBatchOutput,
                start_to_close=settings.POLL_TIMEOUT,
                retry=settings.PROVIDER_RETRY,
                summary=poll_summary(self.wf.progress_state.provider_batch_id, polls, interval),
            )
            if polled.ended:
                self.phase = Phase.collect
                return
            interval = min(interval * self.input.poll.factor, self.input.poll.max_seconds)
            self.poll_interval = interval
            self.wf.update_progress(polls=polls, next_poll_seconds=interval)
            self._maybe_continue_as_new()

    async def _tools(self, ref: LLMBatchRef, *, builtin: bool = True, custom: bool = True) -> None:
        self._enter(Phase.tools)
        if builtin:
            await self._builtin_tools(ref)
        if custom:
            await workflow.execute_child_workflow(
                "ToolFanoutWorkflow",
                ToolFanoutInput(llm_batch_id=ref.llm_batch_id, organization_id=self.org),
                id=f"{workflow.info().workflow_id}-tools-{self.step}",
                result_type=ToolFanoutOutput,
                static_summary=f"custom tools of step {self.step + 1}",
            )
