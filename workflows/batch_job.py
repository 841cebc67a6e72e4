"""``BatchJobWorkflow``: one workflow per Letta batch job, stepping its agents to the end.

Per step: build_requests → send_batch → (durable timer, poll_batch)* → collect_results →
settle_step (decide, built-in tools, persist in one pass) → [custom-tool fan-out →
persist_step]. Runs started before the ``settle-step`` patch take apply_decisions → tools →
persist_step instead. Only ids and counts cross this boundary.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from letta_batch.contracts import (
        BatchJobInput,
        BatchJobResult,
        CancelJobInput,
        CancelJobOutput,
        FinalizeJobInput,
        JobProgress,
        JobRef,
        Phase,
    )
    from workflows import search_attributes as sa
    from workflows.step_phases import StepRunner
    from workflows.ui import job_details


class ContinueAsNewNow(Exception):
    """Raised inside the step loop to leave it at a safe point and continue as new."""


@workflow.defn
class BatchJobWorkflow:
    """Steps every agent of one job until none continues or ``max_steps`` is reached."""

    def __init__(self) -> None:
        self._input: BatchJobInput | None = None
        self._progress: JobProgress | None = None
        self._agent_count = 0
        self._cancel_requested = False
        self._cancel_reason: str | None = None

    @workflow.run
    async def run(self, input: BatchJobInput) -> BatchJobResult:
        self._input = input
        self._cancel_requested = input.cancel_requested
        self._progress = JobProgress(
            job_id=input.job_id,
            step=input.step,
            phase=input.phase,
            llm_batch_id=input.llm_batch_id,
            run_index=input.run_index,
            cancel_requested=input.cancel_requested,
        )
        runner = StepRunner(self, input)
        started = await runner.start_job(
            JobRef(job_id=input.job_id, organization_id=input.organization_id)
        )
        self._agent_count = started.agent_count
        workflow.upsert_search_attributes(
            [sa.BATCH_JOB_ID.value_set(input.job_id), sa.AGENT_COUNT.value_set(started.agent_count)]
        )
        self.set_phase(input.phase, input.step)

        try:
            steps = await runner.run_steps()
        except ContinueAsNewNow:
            await workflow.wait_condition(workflow.all_handlers_finished)
            workflow.continue_as_new(runner.resume_input())

        self.set_phase(Phase.finalize, steps)
        final = await runner.finalize(
            FinalizeJobInput(
                job_id=input.job_id,
                organization_id=input.organization_id,
                cancelled=self._cancel_requested,
                reason=self._cancel_reason,
                steps=steps,
            )
        )
        if final.callback_url_set:
            try:
                await runner.send_callback()
            except ActivityError as err:
                # The outcome is recorded on the job; a callback never fails the job.
                workflow.logger.warning("completion callback failed: %s", err.cause or err)
        workflow.upsert_search_attributes([sa.BATCH_STATUS.value_set(final.status)])
        self.set_phase(Phase.done, steps)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return BatchJobResult(
            job_id=input.job_id,
            status=final.status,
            steps=steps,
            agents_completed=final.completed + final.requires_approval,
            agents_failed=final.failed,
            agents_cancelled=final.cancelled,
            runs=input.run_index + 1,
        )

    # --- UI / progress -------------------------------------------------------------------

    def set_phase(self, phase: Phase, step: int, **changes: object) -> None:
        """Record the phase in the query state, the search attributes and the UI details."""
        assert self._progress is not None and self._input is not None
        self._progress = self._progress.model_copy(update={"phase": phase, "step": step, **changes})
        workflow.upsert_search_attributes(
            [sa.BATCH_PHASE.value_set(phase.value), sa.BATCH_STEP.value_set(step)]
        )
        self.refresh_details()

    def update_progress(self, **changes: object) -> None:
        assert self._progress is not None
        self._progress = self._progress.model_copy(update=changes)
        self.refresh_details()

    def refresh_details(self) -> None:
        assert self._progress is not None and self._input is not None
        workflow.set_current_details(
            job_details(
                self._progress, agent_count=self._agent_count, max_steps=self._input.max_steps
            )
        )

    @property
    def cancel_requested(self) -> bool:
        return self._cancel_requested

    @property
    def progress_state(self) -> JobProgress:
        assert self._progress is not None
        return self._progress

    # --- handlers ------------------------------------------------------------------------

    @workflow.query
    def progress(self) -> JobProgress:
        """Live progress for ``letta-batch status/watch``."""
        assert self._progress is not None
        return self._progress

    @workflow.update
    async def cancel(self, request: CancelJobInput) -> CancelJobOutput:
        """Ask the job to stop: the in-flight batch is cancelled, the current persist finishes."""
        self._cancel_requested = True
        self._cancel_reason = request.reason
        self.update_progress(cancel_requested=True)
        assert self._progress is not None
        return CancelJobOutput(
            job_id=self._progress.job_id,
            accepted=True,
            phase=self._progress.phase,
            provider_batch_id=self._progress.provider_batch_id,
        )

    @cancel.validator
    def _validate_cancel(self, request: CancelJobInput) -> None:
        assert self._progress is not None
        if self._progress.phase in (Phase.finalize, Phase.done):
            raise ApplicationError(
                f"job {self._progress.job_id} has already finished (phase {self._progress.phase.value})"
            )
        if self._cancel_requested:
            raise ApplicationError(f"job {self._progress.job_id} is already being cancelled")
