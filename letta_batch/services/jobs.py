"""Job lifecycle: start, finalize (every agent gets a final status), completion callback."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from letta_batch.contracts import (
    CallbackOutput,
    FinalizeJobInput,
    FinalizeJobOutput,
    JobRef,
    StartJobOutput,
)
from letta_batch.crashpoints import checkpoint
from letta_batch.db.models_agents import AgentRow
from letta_batch.db.models_batch import BatchJobAgentRow, BatchJobRow
from letta_batch.schemas.enums import (
    JOB_TRANSITIONS,
    AgentRunStatus,
    JobStatus,
    StopReason,
)
from letta_batch.services.runtime import InvalidJobState, NonRetryable, ServiceContext


def check_transition(job_id: str, current: JobStatus, new: JobStatus) -> None:
    """Refuse illegal job transitions; re-applying the current status is a no-op."""
    if current == new:
        return
    if new not in JOB_TRANSITIONS[current]:
        raise InvalidJobState(f"job {job_id}: illegal transition {current.value} -> {new.value}")


async def _load_job(session: AsyncSession, ref_job_id: str, org_id: str) -> BatchJobRow:
    job = await session.scalar(
        select(BatchJobRow).where(
            BatchJobRow.id == ref_job_id, BatchJobRow.organization_id == org_id
        )
    )
    if job is None:
        raise NonRetryable(f"job_id: no job {ref_job_id!r} in organization {org_id!r}")
    return job


async def start_job(ctx: ServiceContext, ref: JobRef) -> StartJobOutput:
    """Mark the job running (idempotent) and report its size for the UI."""
    async with ctx.session_factory.begin() as session:
        job = await _load_job(session, ref.job_id, ref.organization_id)
        current = JobStatus(job.status)
        if current is JobStatus.created:
            check_transition(job.id, current, JobStatus.running)
            job.status = JobStatus.running.value
            job.updated_at = ctx.clock()
        models = (
            await session.scalars(
                select(AgentRow.llm_config)
                .join(BatchJobAgentRow, BatchJobAgentRow.agent_id == AgentRow.id)
                .where(BatchJobAgentRow.job_id == job.id)
                .limit(10_000)
            )
        ).all()
        return StartJobOutput(
            agent_count=job.agent_count,
            max_steps=job.max_steps,
            models=sorted({str(cfg.get("model")) for cfg in models}),
        )


def job_status_from_counts(*, completed: int, failed: int, cancelled: bool) -> JobStatus:
    if cancelled:
        return JobStatus.cancelled
    if failed and not completed:
        return JobStatus.failed
    if failed:
        return JobStatus.completed_with_failures
    return JobStatus.completed


async def finalize_job(ctx: ServiceContext, arg: FinalizeJobInput) -> FinalizeJobOutput:
    """Give every agent still running a final status, then the job its terminal status."""
    async with ctx.session_factory.begin() as session:
        job = await _load_job(session, arg.job_id, arg.organization_id)
        current = JobStatus(job.status)
        if not current.is_terminal:
            leftover_status = (
                AgentRunStatus.cancelled if arg.cancelled else AgentRunStatus.completed
            )
            leftover_reason = StopReason.cancelled if arg.cancelled else StopReason.max_steps
            await session.execute(
                update(BatchJobAgentRow)
                .where(
                    BatchJobAgentRow.job_id == job.id,
                    BatchJobAgentRow.status == AgentRunStatus.running.value,
                )
                .values(
                    status=leftover_status.value,
                    stop_reason=leftover_reason.value,
                    reason=arg.reason if arg.cancelled else "max_steps reached",
                )
            )
        rows = (
            await session.execute(
                select(BatchJobAgentRow.status, func.count())
                .where(BatchJobAgentRow.job_id == job.id)
                .group_by(BatchJobAgentRow.status)
            )
        ).all()
        counts = {status: n for status, n in rows}
        done = counts.get(AgentRunStatus.completed.value, 0)
        approval = counts.get(AgentRunStatus.requires_approval.value, 0)
        failed = counts.get(AgentRunStatus.failed.value, 0)
        cancelled = counts.get(AgentRunStatus.cancelled.value, 0)
        if not current.is_terminal:
            new = job_status_from_counts(
                completed=done + approval, failed=failed, cancelled=arg.cancelled
            )
            check_transition(job.id, current, new)
            now = ctx.clock()
            job.status = new.value
            job.current_step = arg.steps
            job.completed_at = now
            job.updated_at = now
            job.stop_reason = arg.reason if arg.cancelled else None
            current = new
    await checkpoint("finalize.after_commit")
    return FinalizeJobOutput(
        status=current.value,
        completed=done,
        failed=failed,
        cancelled=cancelled,
        requires_approval=approval,
        callback_url_set=bool(job.callback_url) and job.callback_sent_at is None,
    )


async def send_callback(ctx: ServiceContext, ref: JobRef) -> CallbackOutput:
    """POST the completion callback once and record the outcome; never fails the job."""
    import httpx

    async with ctx.session_factory() as session:
        job = await _load_job(session, ref.job_id, ref.organization_id)
        if not job.callback_url or job.callback_sent_at is not None:
            return CallbackOutput(sent=False, status_code=job.callback_status_code)
        payload = {
            "job_id": job.id,
            "status": job.status,
            "completed_at": job.completed_at.isoformat() if job.completed_at else None,
            "metadata": job.metadata_ or {},
        }
        url = job.callback_url
    status_code: int | None = None
    error: str | None = None
    try:
        async with httpx.AsyncClient(timeout=5.0) as client:
            response = await client.post(url, json=payload)
        status_code = response.status_code
        if response.status_code >= 500:
            error = f"callback returned HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    async with ctx.session_factory.begin() as session:
        await session.execute(
            update(BatchJobRow)
            .where(BatchJobRow.id == ref.job_id, BatchJobRow.organization_id == ref.organization_id)
            .values(
                callback_sent_at=ctx.clock() if error is None else None,
                callback_status_code=status_code,
                callback_error=error,
            )
        )
    if error is not None and (status_code is None or status_code >= 500):
        # Transient: let the activity's retry policy try again (bounded attempts).
        raise CallbackFailed(error)
    return CallbackOutput(sent=error is None, status_code=status_code, error=error)


class CallbackFailed(Exception):
    """A callback attempt failed in a way a retry may fix (network error, 5xx)."""
