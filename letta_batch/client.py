"""Python API: submit jobs, read their progress, cancel them — through the Temporal client."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfigProfile
from temporalio.service import RPCError

from letta_batch.config import Settings
from letta_batch.contracts import (
    BatchJobInput,
    BatchJobResult,
    CancelJobInput,
    CancelJobOutput,
    JobProgress,
    PollSettings,
)
from letta_batch.db.engine import create_engine
from letta_batch.db.models_batch import (
    BatchJobAgentRow,
    BatchJobRow,
    LLMBatchJobRow,
    LLMBatchPartRow,
)
from letta_batch.services.runtime import ServiceContext
from letta_batch.services.submit import SubmissionError, SubmittedJob, submit_batch


async def connect_temporal(settings: Settings) -> Client:
    """A Temporal client with the pydantic converter.

    Address and namespace come from ``settings``; TLS, mTLS certificates and API keys (for
    Temporal Cloud) from Temporal's standard environment configuration (``TEMPORAL_API_KEY``,
    ``TEMPORAL_TLS``, ``TEMPORAL_TLS_CLIENT_CERT_PATH``…, ``TEMPORAL_PROFILE`` /
    ``temporal.toml``), as every Temporal tool reads it.
    """
    config = ClientConfigProfile.load().to_client_connect_config()
    config["target_host"] = settings.temporal_address
    config["namespace"] = settings.temporal_namespace
    return await Client.connect(**config, data_converter=pydantic_data_converter)


def workflow_id_for(job_id: str) -> str:
    """The workflow id of a job: one workflow per job, derived from its id."""
    return f"batch-{job_id}"


class LettaBatchClient:
    """Submits and operates batch jobs. Use ``await LettaBatchClient.connect()``."""

    def __init__(self, client: Client, ctx: ServiceContext) -> None:
        self.temporal = client
        self.ctx = ctx
        self.settings = ctx.settings

    @classmethod
    async def connect(cls, settings: Settings | None = None) -> LettaBatchClient:
        settings = settings or Settings.from_env()
        client = await connect_temporal(settings)
        return cls(
            client, ServiceContext(engine=create_engine(settings.database_url), settings=settings)
        )

    async def aclose(self) -> None:
        await self.ctx.aclose()

    async def submit(
        self,
        payload: Any,
        *,
        max_steps: int = 50,
        idempotency_key: str | None = None,
        poll: PollSettings | None = None,
        event_budget: int | None = None,
        shards: int | None = None,
    ) -> SubmittedJob:
        """Validate and store the job, then start its workflow (idempotent per key).

        ``shards`` (default: the ``phase_shards`` setting) splits each step's phases over
        that many concurrent activities, for as many worker processes.
        """
        org = self.settings.organization_id
        shards = shards if shards is not None else self.settings.phase_shards
        if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
            raise SubmissionError([f"shards: must be an integer of at least 1, got {shards!r}"])
        if shards > 1 and self.ctx.engine.dialect.name == "sqlite":
            # Checked before anything is written: SQLite takes one writer at a time, so
            # shards would only queue on its lock (and time out).
            raise SubmissionError(
                [f"shards: {shards} needs PostgreSQL; the embedded SQLite database runs 1"]
            )
        job = await submit_batch(
            self.ctx, org, payload, max_steps=max_steps, idempotency_key=idempotency_key
        )
        arg = BatchJobInput(
            job_id=job.job_id,
            organization_id=org,
            max_steps=job.max_steps,
            poll=poll or PollSettings(),
            shards=shards,
        )
        if event_budget is not None:
            arg.event_budget = event_budget
        from workflows.search_attributes import AGENT_COUNT, BATCH_JOB_ID

        models = ", ".join(job.models) or "(see agents)"
        await self.temporal.start_workflow(
            "BatchJobWorkflow",
            arg,
            id=workflow_id_for(job.job_id),
            task_queue=self.settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(BATCH_JOB_ID, job.job_id),
                    SearchAttributePair(AGENT_COUNT, job.agent_count),
                ]
            ),
            static_summary=f"Batch job {job.job_id}: {job.agent_count} agents, {models}, "
            f"max {job.max_steps} steps",
            static_details=f"- **agents:** {job.agent_count}\n- **models:** {models}\n"
            f"- **max steps:** {job.max_steps}",
        )
        return job

    def handle(self, job_id: str) -> WorkflowHandle[Any, Any]:
        return self.temporal.get_workflow_handle(workflow_id_for(job_id))

    async def wait(self, job_id: str) -> BatchJobResult:
        return await self.temporal.get_workflow_handle(
            workflow_id_for(job_id), result_type=BatchJobResult
        ).result()

    async def progress(self, job_id: str) -> JobProgress | None:
        """Live progress from the workflow query, or None when the workflow is not running."""
        try:
            desc = await self.handle(job_id).describe()
            if desc.status != WorkflowExecutionStatus.RUNNING:
                return None
            return await self.handle(job_id).query("progress", result_type=JobProgress)
        except RPCError:
            return None

    async def cancel(self, job_id: str, reason: str = "cancelled by operator") -> CancelJobOutput:
        return await self.handle(job_id).execute_update(
            "cancel", CancelJobInput(reason=reason), result_type=CancelJobOutput
        )

    async def job_status(self, job_id: str) -> dict[str, Any]:
        """The job as stored: status, step, per-status agent counts, the last provider batch."""
        org = self.settings.organization_id
        async with self.ctx.session_factory() as session:
            job = await session.scalar(
                select(BatchJobRow).where(
                    BatchJobRow.id == job_id, BatchJobRow.organization_id == org
                )
            )
            if job is None:
                raise KeyError(f"job_id: no job {job_id!r}")
            counts: dict[str, int] = {
                status: n
                for status, n in (
                    await session.execute(
                        select(BatchJobAgentRow.status, func.count())
                        .where(BatchJobAgentRow.job_id == job_id)
                        .group_by(BatchJobAgentRow.status)
                    )
                ).all()
            }
            last = await session.scalar(
                select(LLMBatchJobRow)
                .where(LLMBatchJobRow.letta_batch_job_id == job_id)
                .order_by(LLMBatchJobRow.step.desc())
                .limit(1)
            )
            steps = await session.scalar(
                select(func.count())
                .select_from(LLMBatchJobRow)
                .where(LLMBatchJobRow.letta_batch_job_id == job_id)
            )
            provider_batch_ids: list[str] = []
            if last is not None:
                provider_batch_ids = list(
                    await session.scalars(
                        select(LLMBatchPartRow.provider_batch_id)
                        .where(
                            LLMBatchPartRow.llm_batch_id == last.id,
                            LLMBatchPartRow.provider_batch_id.is_not(None),
                        )
                        .order_by(LLMBatchPartRow.part)
                    )
                )
        return {
            "job_id": job.id,
            "status": job.status,
            "steps": int(steps or 0),
            "max_steps": job.max_steps,
            "agent_count": job.agent_count,
            "agents": counts,
            "provider_batch_id": last.provider_batch_id if last else None,
            "provider_batch_ids": provider_batch_ids,
            "request_counts": last.request_counts if last else None,
            "created_at": job.created_at.isoformat() if job.created_at else None,
            "completed_at": job.completed_at.isoformat() if job.completed_at else None,
            "callback_status_code": job.callback_status_code,
        }


__all__ = ["LettaBatchClient", "workflow_id_for"]
