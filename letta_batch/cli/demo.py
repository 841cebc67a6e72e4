"""``letta-batch demo``: the whole system on one machine with one command.

Starts the Temporal dev server (with UI), the Message Batches emulator (unless
``ANTHROPIC_API_KEY`` is set) and a worker as child processes; migrates the embedded SQLite
database; loads the sample agents; submits a job; shows the watch view until it ends; prints
the UI link and a per-agent summary; then stops every process it started (also on Ctrl-C or
SIGTERM). Everything lives under one state directory (default ``.letta-batch/``).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import signal
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from letta_batch.cli.queries import agent_summaries
from letta_batch.cli.render import agents_table, err, out
from letta_batch.cli.watch import watch_job
from letta_batch.client import LettaBatchClient, workflow_id_for
from letta_batch.config import DEFAULT_STATE_DIR, Settings
from letta_batch.contracts import PollSettings
from letta_batch.devstack import DevStack, StackConfig, StartupError, stale_pids

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = PROJECT_ROOT / "examples"
#: Fast polling for the emulator (its batches end within seconds); the real API gets defaults.
EMULATOR_POLL = PollSettings(initial_seconds=1.0, factor=1.5, max_seconds=5.0)


def search_attribute_flags() -> dict[str, str]:
    """The project's search attributes as ``--search-attribute NAME=Type`` values."""
    from temporalio.common import SearchAttributeKey

    from workflows.search_attributes import ALL_KEYS

    keys = cast("list[SearchAttributeKey[Any]]", ALL_KEYS)
    return {
        key.name: "".join(p.capitalize() for p in key.indexed_value_type.name.split("_"))
        for key in keys
    }


def replicate_agents(template: dict[str, Any], count: int) -> dict[str, Any]:
    """``count`` agents cycling through the template's agents, named ``<name>-001``…"""
    agents = template["agents"]
    out_agents = []
    for i in range(count):
        agent = copy.deepcopy(agents[i % len(agents)])
        agent["name"] = f"{agent['name']}-{i + 1:03d}"
        out_agents.append(agent)
    return {"tools": template.get("tools", []), "agents": out_agents}


def batch_payload(agent_ids: list[str], prompts: dict[str, Any]) -> dict[str, Any]:
    """A CreateBatch for the agents, reusing ``demo_batch.json``'s messages in turn."""
    templates = prompts["requests"]
    requests = []
    for i, agent_id in enumerate(agent_ids):
        request = {k: v for k, v in templates[i % len(templates)].items() if k != "agent_id"}
        requests.append({"agent_id": agent_id, **request})
    return {"requests": requests}


async def load_agents(settings: Settings, definitions: dict[str, Any]) -> list[str]:
    """Migrate the database, upsert the agents (idempotent by name); ids in file order."""
    from letta_batch.db import create_engine, migrate, session_factory
    from letta_batch.definitions import load_definitions

    await migrate.upgrade_async(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            result = await load_definitions(session, settings.organization_id, definitions)
    finally:
        await engine.dispose()
    ids = result.agent_ids
    return [ids[a["name"]] for a in definitions["agents"]]


async def _supervise(stack: DevStack) -> None:
    """Raise as soon as a child dies (instead of watching a job nobody works on)."""
    while True:
        stack.check_alive()
        await asyncio.sleep(1.0)


async def _watch_supervised(
    stack: DevStack, client: LettaBatchClient, job_id: str, job_timeout: float
) -> dict[str, Any]:
    watch = asyncio.create_task(watch_job(client, job_id, out))
    supervisor = asyncio.create_task(_supervise(stack))
    done, pending = await asyncio.wait(
        {watch, supervisor}, timeout=job_timeout, return_when=asyncio.FIRST_COMPLETED
    )
    for task in pending:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if watch in done:
        return watch.result()
    if supervisor in done:
        supervisor.result()  # raises the StartupError naming the dead child
    raise TimeoutError(f"job {job_id} did not end within {job_timeout:.0f}s")


async def run_demo(
    stack: DevStack, agents: int, max_steps: int, job_timeout: float, keep: bool
) -> str:
    """The demo's steps once the stack object exists; returns the job's final status."""
    endpoints = await asyncio.to_thread(stack.start_services)
    out.print(f"[bold]Temporal[/] {endpoints.temporal_address}  [bold]UI[/] {endpoints.ui_url}")
    out.print(
        f"[bold]Provider[/] {endpoints.emulator_url or 'api.anthropic.com (ANTHROPIC_API_KEY)'}"
    )
    settings = Settings.from_env(stack.env())
    template = _read(EXAMPLES / "demo_agents.yaml")
    definitions = replicate_agents(template, agents)
    agent_ids = await load_agents(settings, definitions)
    out.print(f"loaded {len(agent_ids)} agents into {settings.database_url}")
    stack.start_worker()
    payload = batch_payload(agent_ids, _read(EXAMPLES / "demo_batch.json"))
    (stack.state_dir / "last_batch.json").write_text(json.dumps(payload, indent=2))
    client = await LettaBatchClient.connect(settings)
    try:
        poll = EMULATOR_POLL if endpoints.emulator_url else None
        job = await client.submit(payload, max_steps=max_steps, poll=poll)
        out.print(f"submitted job [bold]{job.job_id}[/] ({job.agent_count} agents)")
        final = await _watch_supervised(stack, client, job.job_id, job_timeout)
        async with client.ctx.session_factory() as session:
            rows = await agent_summaries(session, settings.organization_id, job.job_id)
        out.print(agents_table(rows))
        out.print(f"job {job.job_id}: [bold]{final['status']}[/] after {final['steps']} step(s)")
        link = f"{endpoints.ui_url}/namespaces/default/workflows/{workflow_id_for(job.job_id)}"
        out.print(f"Temporal UI: {link}", soft_wrap=True)  # one line, so terminals link it
        if keep:
            out.print("stack left running (--keep-running); press Ctrl-C to stop it")
            await asyncio.Event().wait()
        return str(final["status"])
    finally:
        await client.aclose()


def _read(path: Path) -> Any:
    from letta_batch.definitions import read_definitions_file

    if not path.exists():
        raise typer.BadParameter(f"{path} not found (run the demo from a checkout of the project)")
    return json.loads(path.read_text()) if path.suffix == ".json" else read_definitions_file(path)


def demo(
    agents: Annotated[int, typer.Option("--agents", min=1, help="How many agents to step.")] = 24,
    state_dir: Annotated[
        Path, typer.Option("--state-dir", help="Where all state lives.")
    ] = DEFAULT_STATE_DIR,
    keep_running: Annotated[
        bool, typer.Option("--keep-running", help="Keep the stack up after the job.")
    ] = False,
    max_steps: Annotated[int, typer.Option("--max-steps", help="Step cap per agent.")] = 10,
    processing_seconds: Annotated[
        float, typer.Option("--processing-seconds", help="Emulated batch duration.")
    ] = 2.0,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Give up on the job after this many seconds.")
    ] = 900.0,
) -> None:
    """Run the whole system locally: Temporal + UI, emulator, worker, sample agents, one job."""
    state_dir = state_dir.resolve()
    leftovers = stale_pids(state_dir / "processes.json")
    if leftovers:
        err.print(f"[yellow]processes of an earlier demo still run: {leftovers} (not touched)[/]")
    config = StackConfig(
        state_dir=state_dir,
        search_attributes=search_attribute_flags(),
        use_emulator=not os.environ.get("ANTHROPIC_API_KEY"),
        processing_seconds=processing_seconds,
        project_root=PROJECT_ROOT if (PROJECT_ROOT / "worker.py").exists() else None,
    )
    stack = DevStack(config)
    code = 0

    async def main() -> str:
        task = asyncio.current_task()
        assert task is not None
        # SIGTERM behaves like Ctrl-C: cancel, then the finally below stops the children.
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        return await run_demo(stack, agents, max_steps, timeout, keep_running)

    try:
        status = asyncio.run(main())
        code = 0 if status in ("completed", "completed_with_failures") else 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        err.print("interrupted")
        code = 130
    except (StartupError, TimeoutError) as exc:
        err.print(f"[red]demo failed:[/] {exc or 'timed out'}")
        code = 1
    finally:
        err.print("stopping the demo's processes…")
        codes = stack.stop()
        err.print("stopped: " + ", ".join(f"{n} (exit {c})" for n, c in codes.items()))
        err.print(f"state and logs: {state_dir}")
    raise typer.Exit(code)
