"""The Temporal UI's current-details card: a heading and bullets, parts named when split."""

from __future__ import annotations

from letta_batch.contracts import JobProgress, Phase
from workflows.ui import job_details, poll_summary


def _progress(**changes: object) -> JobProgress:
    base = JobProgress(job_id="job-1", step=2, phase=Phase.poll, agents_in_step=30_000)
    return base.model_copy(update=changes)


def test_one_provider_batch() -> None:
    text = job_details(
        _progress(
            provider_batch_id="msgbatch_a", provider_batches=1, polls=3, next_poll_seconds=90
        ),
        agent_count=30_000,
        max_steps=5,
    )
    assert text.splitlines() == [
        "### Batch job `job-1`",
        "- **phase:** poll",
        "- **step:** 3 of at most 5",
        "- **agents in this step:** 30000 (job: 30000)",
        "- **provider batch:** `msgbatch_a`",
        "- **polls:** 3, next in 1.5m",
    ]


def test_a_split_step_names_its_parts() -> None:
    text = job_details(
        _progress(provider_batch_id="msgbatch_a", provider_batches=3), agent_count=1, max_steps=1
    )
    assert "- **provider batch:** `msgbatch_a` and 2 more (the step is split into 3 parts)" in text


def test_poll_summary() -> None:
    assert poll_summary("msgbatch_a", 4, 15) == "poll batch msgbatch_a (attempt 4, next in 15s)"
