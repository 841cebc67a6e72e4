"""The recorded corpus replays on today's workflow code, and a reordered workflow is caught.

``tests/histories`` holds histories recorded from real runs (``letta-batch dev
record-histories``). Every file must replay with the production workflows and data converter:
a failure means a code change would break jobs that are in flight with that shape. The proof
that the check bites replays the same files against deliberately changed copies of the job
workflow (``reordered_workflow.py``) and expects non-determinism errors.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError
from typer.testing import CliRunner

from letta_batch.cli.main import app
from letta_batch.cli.replay import load_history
from tests.replay.reordered_workflow import SwappedUpsertsWorkflow, TimerFirstWorkflow
from workflows import BatchJobWorkflow, ToolFanoutWorkflow

HISTORIES = Path(__file__).resolve().parents[1] / "histories"
FILES = sorted(HISTORIES.glob("*.json"))
#: The scenarios issue 7 asks the corpus to cover (file stems start with these), a step
#: split over several provider batches and a step sharded over concurrent activities (issue 8).
REQUIRED = (
    "one_step",
    "multi_step_heartbeats",
    "partial_failure",
    "cancel_during_polling",
    "continue_as_new",
    "custom_tool_retry",
    "requires_approval",
    "split_step",
    "sharded_step",
)
TALLY: Counter[str] = Counter()


def _type(history: WorkflowHistory) -> str:
    return history.events[0].workflow_execution_started_event_attributes.workflow_type.name


def _reaches_later_step(history: WorkflowHistory) -> bool:
    """Whether the run schedules ``build_requests`` for a step after the first."""
    for event in history.events:
        attrs = event.activity_task_scheduled_event_attributes
        if event.HasField("activity_task_scheduled_event_attributes") and (
            attrs.activity_type.name == "build_requests"
            and json.loads(attrs.input.payloads[0].data)["step"] >= 1
        ):
            return True
    return False


JOB_FILES = [p for p in FILES if _type(load_history(p)) == "BatchJobWorkflow"]


def _ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


@pytest.fixture(scope="module", autouse=True)
def summary(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print one summary line after the module, even with output capture on."""
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    line = (
        f"replay summary: {TALLY['run']} cases run, {TALLY['passed']} passed; corpus "
        f"{len(FILES)} files ({len(JOB_FILES)} job runs); reordered copies rejected "
        f"{TALLY['rejected']} histories, accepted {TALLY['accepted']} untouched ones"
    )
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            reporter.write_line(line)


async def _replay(workflow: type, history: WorkflowHistory) -> Exception | None:
    replayer = Replayer(
        workflows=[workflow, ToolFanoutWorkflow], data_converter=pydantic_data_converter
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    return result.replay_failure


def test_corpus_covers_every_scenario() -> None:
    TALLY["run"] += 1
    stems = {p.stem for p in FILES}
    missing = [s for s in REQUIRED if not any(stem.startswith(s) for stem in stems)]
    assert not missing, f"no recorded history for {missing}; run letta-batch dev record-histories"
    assert sum(p.stem.startswith("continue_as_new-run") for p in FILES) >= 2
    assert any("-tools-" in p.stem for p in FILES), "no ToolFanoutWorkflow history"
    assert any(p.stem.endswith("-cli-export") for p in FILES), "no `temporal workflow show` export"
    TALLY["passed"] += 1


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
async def test_history_replays(path: Path) -> None:
    TALLY["run"] += 1
    failure = await _replay(BatchJobWorkflow, load_history(path))
    assert failure is None, f"{path.name}: {failure}"
    TALLY["passed"] += 1


@pytest.mark.parametrize("path", JOB_FILES, ids=_ids(JOB_FILES))
async def test_timer_before_first_activity_is_caught(path: Path) -> None:
    TALLY["run"] += 1
    failure = await _replay(TimerFirstWorkflow, load_history(path))
    assert isinstance(failure, NondeterminismError), f"{path.name}: {failure!r}"
    TALLY["rejected"] += 1
    TALLY["passed"] += 1


@pytest.mark.parametrize("path", JOB_FILES, ids=_ids(JOB_FILES))
async def test_reordered_later_step_is_caught_by_multi_step_histories(path: Path) -> None:
    """Only histories that reach a second step can notice a change there; the rest must
    still replay, which shows the copy differs in that one place only."""
    TALLY["run"] += 1
    history = load_history(path)
    failure = await _replay(SwappedUpsertsWorkflow, history)
    if _reaches_later_step(history):
        assert isinstance(failure, NondeterminismError), f"{path.name}: {failure!r}"
        TALLY["rejected"] += 1
    else:
        assert failure is None, f"{path.name}: {failure}"
        TALLY["accepted"] += 1
    TALLY["passed"] += 1


def test_multi_step_histories_exist() -> None:
    TALLY["run"] += 1
    later = [p.name for p in JOB_FILES if _reaches_later_step(load_history(p))]
    assert any(n.startswith("multi_step_heartbeats") for n in later), later
    assert any(n.startswith("continue_as_new") for n in later), later
    TALLY["passed"] += 1


def test_replay_cli_accepts_the_corpus_directory(tmp_path: Path) -> None:
    TALLY["run"] += 1
    result = CliRunner().invoke(app, ["replay", str(HISTORIES)])
    assert result.exit_code == 0, result.output
    assert f"{len(FILES)} replayed, {len(FILES)} ok, 0 failed" in result.output
    empty = CliRunner().invoke(app, ["replay", str(tmp_path)])
    assert empty.exit_code != 0 and "no history files" in empty.output
    TALLY["passed"] += 1


async def test_export_without_workflow_id_replays(tmp_path: Path) -> None:
    """Older servers leave the id out of the start event; the job's id is derived instead
    (its child workflow ids depend on it)."""
    TALLY["run"] += 1
    data = json.loads((HISTORIES / "multi_step_heartbeats.json").read_text())
    del data["events"][0]["workflowExecutionStartedEventAttributes"]["workflowId"]
    old = tmp_path / "old-export.json"
    old.write_text(json.dumps(data))
    history = load_history(old)
    assert history.workflow_id.startswith("batch-job-")
    assert await _replay(BatchJobWorkflow, history) is None
    TALLY["passed"] += 1


def test_replay_cli_fails_on_a_bad_file(tmp_path: Path) -> None:
    TALLY["run"] += 1
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = CliRunner().invoke(app, ["replay", str(FILES[0]), str(bad)])
    assert result.exit_code == 1, result.output
    assert "1 ok, 1 failed" in result.output
    TALLY["passed"] += 1


@pytest.mark.slow
async def test_recorder_writes_replayable_histories(tmp_path: Path) -> None:
    """``dev record-histories`` end to end for two scenarios (a job with a tools child)."""
    from letta_batch.devtools.record_histories import record_histories

    TALLY["run"] += 1
    recorded = await record_histories(tmp_path, ["one_step", "custom_tool_retry"], tag="t")
    names = sorted(p.name for r in recorded for p in r.files)
    assert names == [
        "custom_tool_retry-t-tools-step0.json",
        "custom_tool_retry-t.json",
        "one_step-t-cli-export.json",
        "one_step-t.json",
    ]
    for path in (p for r in recorded for p in r.files):
        assert await _replay(BatchJobWorkflow, load_history(path)) is None, path.name
    TALLY["passed"] += 1
