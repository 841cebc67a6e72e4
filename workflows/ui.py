"""Markdown for the Temporal UI's "Current Details" card.

The UI renders markdown tables without borders (temporal-notes §E), so details use a heading
and a bullet list instead.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from letta_batch.contracts import JobProgress


def job_details(progress: JobProgress, *, agent_count: int, max_steps: int) -> str:
    lines = [
        f"### Batch job `{progress.job_id}`",
        f"- **phase:** {progress.phase.value}",
        f"- **step:** {progress.step + 1} of at most {max_steps}",
        f"- **agents in this step:** {progress.agents_in_step} (job: {agent_count})",
    ]
    if progress.provider_batch_id:
        more = progress.provider_batches - 1
        extra = f" and {more} more (the step is split into {more + 1} parts)" if more > 0 else ""
        lines.append(f"- **provider batch:** `{progress.provider_batch_id}`{extra}")
    if progress.next_poll_seconds is not None:
        lines.append(
            f"- **polls:** {progress.polls}, next in {_duration(progress.next_poll_seconds)}"
        )
    if progress.cancel_requested:
        lines.append("- **cancel requested**")
    if progress.run_index:
        lines.append(f"- **run:** {progress.run_index + 1} (continued as new)")
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds >= 60:
        return f"{seconds / 60:.0f}m" if seconds % 60 == 0 else f"{seconds / 60:.1f}m"
    return f"{seconds:.0f}s"


def poll_summary(provider_batch_id: str | None, attempt: int, next_seconds: float) -> str:
    return f"poll batch {provider_batch_id} (attempt {attempt}, next in {_duration(next_seconds)})"
