"""Rich renderings of jobs, steps, messages and agents for the CLI (no I/O beyond printing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from letta_batch.cli.queries import StepCount
from letta_batch.contracts import JobProgress

out = Console()
err = Console(stderr=True)

_STATUS_STYLE = {
    "completed": "green",
    "completed_with_failures": "yellow",
    "failed": "red",
    "cancelled": "magenta",
    "running": "cyan",
    "created": "blue",
    "requires_approval": "yellow",
}


def styled(status: str | None) -> Text:
    return Text(status or "-", style=_STATUS_STYLE.get(status or "", ""))


def clip(text: str | None, width: int = 60) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _counts(counts: dict[str, Any] | None) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted((counts or {}).items())) or "-"


def status_table(status: dict[str, Any], progress: JobProgress | None) -> Table:
    """Key/value table of ``letta-batch status``."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("job", status["job_id"])
    table.add_row("status", styled(status["status"]))
    table.add_row("steps", f"{status['steps']} (max {status['max_steps']})")
    table.add_row("agents", f"{status['agent_count']}: {_counts(status['agents'])}")
    batches = status.get("provider_batch_ids") or []
    if len(batches) > 1:  # the last step was split over several provider batches
        table.add_row("provider batches", ", ".join(batches))
    else:
        table.add_row("provider batch", status.get("provider_batch_id") or "-")
    table.add_row("request counts", _counts(status.get("request_counts")))
    tokens = status.get("tokens") or {}
    table.add_row(
        "tokens", f"in {tokens.get('input_tokens', 0)}, out {tokens.get('output_tokens', 0)}"
    )
    if progress is not None:
        table.add_row("live phase", f"{progress.phase.value} (step {progress.step})")
        if progress.next_poll_seconds is not None:
            table.add_row("polls", f"{progress.polls}, interval {progress.next_poll_seconds:.0f}s")
        if progress.cancel_requested:
            table.add_row("cancel", "requested")
    table.add_row("created", status.get("created_at") or "-")
    table.add_row("completed", status.get("completed_at") or "-")
    if status.get("callback_status_code") is not None:
        table.add_row("callback", str(status["callback_status_code"]))
    return table


def jobs_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(rows)} job(s)")
    for col in ("job", "status", "agents", "step", "created", "completed"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["job_id"], styled(r["status"]), str(r["agent_count"]),
            f"{r['current_step']}/{r['max_steps']}", r["created_at"] or "-", r["completed_at"] or "-",
        )  # fmt: skip
    return table


def messages_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(rows)} message(s)")
    for col in ("seq", "step", "agent", "role", "text"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            str(r["sequence_id"]), str(r["step"]), r["agent_id"], r["role"], clip(r["text"], 80)
        )
    return table


def agents_table(rows: list[dict[str, Any]], limit: int = 50) -> Table:
    """The demo's per-agent summary (first ``limit`` agents)."""
    title = f"{len(rows)} agent(s)" + (f", first {limit} shown" if len(rows) > limit else "")
    table = Table(title=title)
    for col in ("agent", "status", "stop reason", "steps", "last assistant message"):
        table.add_column(col, overflow="fold")
    for r in rows[:limit]:
        table.add_row(
            r["name"], styled(r["status"]), r["stop_reason"] or "-", str(r["steps"]),
            clip(r["last_assistant_message"] or r.get("reason") or ""),
        )  # fmt: skip
    return table


@dataclass
class WatchSnapshot:
    """Everything one refresh of the watch view shows."""

    status: dict[str, Any]
    steps: list[StepCount] = field(default_factory=list)
    progress: JobProgress | None = None
    next_poll_in: float | None = None
    """Seconds until the workflow's next poll (estimated from when the poll count changed)."""


def watch_view(snap: WatchSnapshot) -> RenderableType:
    """The ``watch`` screen: a header, one bar per step over its agents, the job's agents."""
    status = snap.status
    header = Text.assemble(
        ("job ", "bold"), status["job_id"], "  ", styled(status["status"]),
        f"  step {status['steps']}/{status['max_steps']}",
    )  # fmt: skip
    if snap.progress is not None:
        header.append(f"  phase {snap.progress.phase.value}", style="bold cyan")
        if snap.progress.provider_batch_id:
            header.append(f"  batch {snap.progress.provider_batch_id}")
            if snap.progress.provider_batches > 1:
                header.append(f" +{snap.progress.provider_batches - 1} parts")
        if snap.next_poll_in is not None and snap.progress.phase.value == "poll":
            header.append(f"  next poll in {max(0.0, snap.next_poll_in):.0f}s")
        if snap.progress.cancel_requested:
            header.append("  cancel requested", style="magenta")
    bars = Table.grid(padding=(0, 1))
    for _ in range(3):
        bars.add_column()
    for step in snap.steps:
        label = f"{step.done}/{step.total} agents" + (
            f" ({step.failed} failed)" if step.failed else ""
        )
        bars.add_row(
            f"step {step.step}", ProgressBar(total=max(step.total, 1), completed=step.done, width=40),
            label,
        )  # fmt: skip
    finished = sum(v for k, v in (status["agents"] or {}).items() if k != "running")
    bars.add_row(
        Text("job", style="bold"),
        ProgressBar(total=max(status["agent_count"], 1), completed=finished, width=40),
        f"{finished}/{status['agent_count']} agents finished: {_counts(status['agents'])}",
    )
    counts = f"request counts: {_counts(status.get('request_counts'))}"
    return Panel(Group(header, bars, Text(counts, style="dim")), title="letta-batch watch")
