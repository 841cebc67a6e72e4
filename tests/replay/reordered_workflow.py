"""Deliberately changed copies of ``BatchJobWorkflow`` that recorded histories must reject.

Both register under the production name ``BatchJobWorkflow``, as a careless edit of the real
class would, so the replayer picks them for the recorded job histories:

* :class:`TimerFirstWorkflow` sleeps before its first activity: the very first command no
  longer matches, so *every* job history fails.
* :class:`SwappedUpsertsWorkflow` moves the step's search-attribute upsert from before the
  ``build_requests`` activity to after it, from the second step on: only histories that reach
  a second step notice, which is why the corpus has multi-step jobs and not just one step.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from letta_batch.contracts import BatchJobInput, BatchJobResult, Phase
    from workflows import search_attributes as sa
    from workflows.batch_job import BatchJobWorkflow


@workflow.defn(name="BatchJobWorkflow")
class TimerFirstWorkflow(BatchJobWorkflow):
    """Adds a durable timer before ``start_job``."""

    @workflow.run
    async def run(self, input: BatchJobInput) -> BatchJobResult:
        await workflow.sleep(1)
        return await super().run(input)


@workflow.defn(name="BatchJobWorkflow")
class SwappedUpsertsWorkflow(BatchJobWorkflow):
    """From step 2 on, upserts the build phase after scheduling ``build_requests``."""

    def __init__(self) -> None:
        super().__init__()
        self._pending_upsert: tuple[Phase, int] | None = None

    @workflow.run
    async def run(self, input: BatchJobInput) -> BatchJobResult:
        return await super().run(input)

    def set_phase(self, phase: Phase, step: int, **changes: object) -> None:
        if phase is Phase.build and step >= 1:
            # Same state, UI details and query answer; only the upsert command moves later.
            assert self._progress is not None
            self._progress = self._progress.model_copy(
                update={"phase": phase, "step": step, **changes}
            )
            self.refresh_details()
            self._pending_upsert = (phase, step)
            return
        if self._pending_upsert is not None:
            pending, self._pending_upsert = self._pending_upsert, None
            workflow.upsert_search_attributes(
                [sa.BATCH_PHASE.value_set(pending[0].value), sa.BATCH_STEP.value_set(pending[1])]
            )
        super().set_phase(phase, step, **changes)
