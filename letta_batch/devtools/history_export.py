"""Export every run of a workflow, and of its child workflows, as replayable JSON files.

Runs are found by following the history itself (the first run id in the start event, then each
run's ``ContinuedAsNew`` event), not through visibility, which the dev server updates a little
after a workflow closes. Children are found from their ``ChildWorkflowExecutionStarted`` events.
"""

from __future__ import annotations

from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory

_CONTINUED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW


async def all_runs(client: Client, workflow_id: str) -> list[WorkflowHistory]:
    """The histories of every run of ``workflow_id``, first run first (all must be closed)."""
    latest = await client.get_workflow_handle(workflow_id).fetch_history()
    started = latest.events[0].workflow_execution_started_event_attributes
    run_id: str | None = started.first_execution_run_id or started.original_execution_run_id
    runs: list[WorkflowHistory] = []
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        runs.append(history)
        last = history.events[-1]
        run_id = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
            if last.event_type == _CONTINUED
            else None
        )
    return runs


def child_ids(histories: list[WorkflowHistory]) -> list[str]:
    """Ids of the child workflows the runs started, in start order, without repeats."""
    seen: dict[str, None] = {}
    for history in histories:
        for event in history.events:
            if event.HasField("child_workflow_execution_started_event_attributes"):
                attrs = event.child_workflow_execution_started_event_attributes
                seen.setdefault(attrs.workflow_execution.workflow_id, None)
    return list(seen)


def _names(stem: str, count: int) -> list[str]:
    return [f"{stem}.json"] if count == 1 else [f"{stem}-run{i}.json" for i in range(1, count + 1)]


def clear_stem(out: Path, stem: str) -> None:
    """Create ``out`` and remove an earlier recording of ``stem`` there (so a scenario with
    fewer runs leaves no stale files). Other stems, such as kept ``-v1`` histories, stay."""
    out.mkdir(parents=True, exist_ok=True)
    for pattern in (f"{stem}.json", f"{stem}-run*.json", f"{stem}-tools-*.json"):
        for path in out.glob(pattern):
            path.unlink()


async def export_job(client: Client, workflow_id: str, out: Path, stem: str) -> list[Path]:
    """Write ``<stem>[-runN].json`` per run and ``<stem>-tools-stepK[-runN].json`` per child
    into ``out`` (which must exist: see :func:`clear_stem`)."""
    runs = await all_runs(client, workflow_id)
    written: list[Path] = []
    for name, history in zip(_names(stem, len(runs)), runs, strict=True):
        written.append(_write(out / name, history))
    for child in child_ids(runs):
        child_runs = await all_runs(client, child)
        step = child.rsplit("-tools-", 1)[-1]
        names = _names(f"{stem}-tools-step{step}", len(child_runs))
        for name, history in zip(names, child_runs, strict=True):
            written.append(_write(out / name, history))
    return written


def _write(path: Path, history: WorkflowHistory) -> Path:
    path.write_text(history.to_json() + "\n")
    return path
