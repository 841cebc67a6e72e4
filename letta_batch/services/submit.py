"""Submission: validate a Letta ``CreateBatch`` completely, then write the job in one transaction.

Nothing is written when anything is wrong; every problem names the request index, the field
and the value. Re-submitting with the same idempotency key returns the existing job.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from pydantic import BaseModel, Field
from sqlalchemy import select

from letta_batch import ids
from letta_batch.db.models_agents import AgentRow
from letta_batch.db.models_batch import BatchJobAgentRow, BatchJobInputRow, BatchJobRow
from letta_batch.providers.registry import provider_for_model
from letta_batch.repositories.bulk import dialect_name, in_values
from letta_batch.schemas import DEFAULT_MAX_STEPS, JobStatus, LLMConfig, MessageCreate
from letta_batch.services.runtime import ServiceContext

#: Anthropic's per-batch request cap; a job's first step must fit in one provider batch.
MAX_REQUESTS = 100_000


class SubmissionError(ValueError):
    """Invalid submission; ``problems`` lists every ``path: message`` found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid batch submission:\n" + "\n".join(f"  {p}" for p in problems))


class SubmittedJob(BaseModel):
    job_id: str
    organization_id: str
    agent_count: int
    max_steps: int
    created: bool
    """False when an earlier submission with the same idempotency key was returned."""
    models: list[str] = Field(default_factory=list)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def parse_create_batch(
    payload: Any,
) -> tuple[list[tuple[str, list[MessageCreate]]], str | None, list[str]]:
    """Shape checks of Letta's ``CreateBatch`` (no database); returns requests, URL, problems."""
    problems: list[str] = []
    if not isinstance(payload, dict):
        return [], None, [f"body: expected a JSON object, got {_short(payload)}"]
    unknown = sorted(set(payload) - {"requests", "callback_url"})
    problems += [f"{k}: unknown field" for k in unknown]
    requests = payload.get("requests")
    if not isinstance(requests, list):
        return [], None, [*problems, f"requests: expected a list, got {_short(requests)}"]
    if not requests:
        problems.append("requests: must contain at least 1 request, got 0")
    if len(requests) > MAX_REQUESTS:
        problems.append(f"requests: at most {MAX_REQUESTS} requests per job, got {len(requests)}")
        return [], None, problems
    parsed: list[tuple[str, list[MessageCreate]]] = []
    seen: dict[str, int] = {}
    for i, req in enumerate(requests):
        where = f"requests[{i}]"
        if not isinstance(req, dict):
            problems.append(f"{where}: expected an object, got {_short(req)}")
            continue
        agent_id = req.get("agent_id")
        if not isinstance(agent_id, str) or not ids.has_prefix(agent_id, ids.AGENT):
            problems.append(f"{where}.agent_id: expected 'agent-<uuid4>', got {_short(agent_id)}")
            continue
        if agent_id in seen:
            problems.append(f"{where}.agent_id: {agent_id!r} already in requests[{seen[agent_id]}]")
            continue
        seen[agent_id] = i
        messages = _messages(req, where, problems)
        if messages is not None:
            parsed.append((agent_id, messages))
    url = payload.get("callback_url")
    if url is not None:
        parsed_url = urlparse(url) if isinstance(url, str) else None
        if (
            parsed_url is None
            or parsed_url.scheme not in ("http", "https")
            or not parsed_url.netloc
        ):
            problems.append(f"callback_url: expected an http(s) URL, got {_short(url)}")
    return parsed, url, problems


def _messages(req: dict[str, Any], where: str, problems: list[str]) -> list[MessageCreate] | None:
    has_messages, has_input = "messages" in req, "input" in req
    if has_messages == has_input:
        problems.append(f"{where}: exactly one of 'messages' or 'input' is required")
        return None
    if has_input:
        raw = [{"role": "user", "content": req["input"]}]
        field = "input"
    else:
        raw = req["messages"]
        field = "messages"
        if not isinstance(raw, list) or not raw:
            problems.append(f"{where}.messages: expected a non-empty list, got {_short(raw)}")
            return None
    out: list[MessageCreate] = []
    for j, msg in enumerate(raw):
        path = f"{where}.{field}" if has_input else f"{where}.messages[{j}]"
        try:
            created = MessageCreate.model_validate(msg)
        except ValueError as exc:
            first = exc.errors()[0] if hasattr(exc, "errors") else {"loc": (), "msg": str(exc)}
            loc = ".".join(str(p) for p in first.get("loc", ()))
            shown = req["input"] if has_input else msg  # the caller's value, not our wrapper
            problems.append(
                f"{path}{'.' + loc if loc and not has_input else ''}: {first['msg']}, got {_short(shown)}"
            )
            continue
        text = (
            created.content
            if isinstance(created.content, str)
            else "".join(getattr(p, "text", "x") for p in created.content)
        )
        if not text.strip():
            problems.append(f"{path}.content: must not be empty, got {_short(created.content)}")
            continue
        out.append(created)
    return out


def _request_indexes(payload: Any) -> dict[str, int]:
    """Agent id → index of its first request in the payload."""
    out: dict[str, int] = {}
    requests = payload.get("requests") if isinstance(payload, dict) else None
    for i, req in enumerate(requests if isinstance(requests, list) else []):
        if isinstance(req, dict) and isinstance(req.get("agent_id"), str):
            out.setdefault(req["agent_id"], i)
    return out


async def submit_batch(
    ctx: ServiceContext,
    organization_id: str,
    payload: Any,
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    idempotency_key: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> SubmittedJob:
    # Python callers can pass anything: refuse wrong types with a message, not a TypeError.
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or not 1 <= max_steps <= 1000:
        raise SubmissionError(
            [f"max_steps: must be an integer between 1 and 1000, got {_short(max_steps)}"]
        )
    if idempotency_key is not None and not isinstance(idempotency_key, str):
        raise SubmissionError(
            [f"idempotency_key: expected a string, got {_short(idempotency_key)}"]
        )
    requests, callback_url, problems = parse_create_batch(payload)
    async with ctx.session_factory.begin() as session:
        if idempotency_key:
            existing = await session.scalar(
                select(BatchJobRow).where(
                    BatchJobRow.organization_id == organization_id,
                    BatchJobRow.idempotency_key == idempotency_key,
                )
            )
            if existing is not None:
                return SubmittedJob(
                    job_id=existing.id,
                    organization_id=organization_id,
                    agent_count=existing.agent_count,
                    max_steps=existing.max_steps,
                    created=False,
                )
        agent_ids = [a for a, _ in requests]
        rows = (
            {
                r.id: r.llm_config
                for r in (
                    await session.execute(
                        select(AgentRow.id, AgentRow.llm_config).where(
                            AgentRow.organization_id == organization_id,
                            in_values(AgentRow.__table__.c.id, agent_ids, dialect_name(session)),
                        )
                    )
                ).all()
            }
            if agent_ids
            else {}
        )
        models: set[str] = set()
        # Name the payload's request index: skipped (invalid, duplicate) requests shift
        # positions in ``agent_ids``.
        indexes = _request_indexes(payload)
        for agent_id in agent_ids:
            index = indexes[agent_id]
            if agent_id not in rows:
                problems.append(f"requests[{index}].agent_id: unknown agent {agent_id!r}")
                continue
            cfg = LLMConfig.model_validate(rows[agent_id])
            if provider_for_model(cfg) is None:
                problems.append(
                    f"requests[{index}].agent_id: agent {agent_id!r} uses model {cfg.model!r} "
                    f"({cfg.model_endpoint_type}), which no configured batch provider serves"
                )
            models.add(cfg.model)
        if problems:
            raise SubmissionError(problems)
        job_id = ids.new_id(ids.JOB)
        now = ctx.clock()
        session.add(
            BatchJobRow(
                id=job_id,
                organization_id=organization_id,
                status=JobStatus.created.value,
                max_steps=max_steps,
                agent_count=len(requests),
                current_step=0,
                metadata_={"job_type": "batch_messages", **(metadata or {})},
                callback_url=callback_url,
                idempotency_key=idempotency_key,
                request_config={"max_steps": max_steps},
                created_at=now,
                updated_at=now,
            )
        )
        await session.flush()
        await session.execute(
            BatchJobAgentRow.__table__.insert(),
            [
                {
                    "job_id": job_id,
                    "agent_id": a,
                    "organization_id": organization_id,
                    "status": "running",
                    "stop_reason": None,
                    "reason": None,
                    "steps": 0,
                    "position": i,
                }
                for i, (a, _) in enumerate(requests)
            ],
        )
        await session.execute(
            BatchJobInputRow.__table__.insert(),
            [
                {
                    "id": ids.derived_id("batch_input", job_id, a),
                    "job_id": job_id,
                    "agent_id": a,
                    "organization_id": organization_id,
                    "messages": [m.model_dump(mode="json", exclude_none=True) for m in msgs],
                }
                for a, msgs in requests
            ],
        )
    return SubmittedJob(
        job_id=job_id,
        organization_id=organization_id,
        agent_count=len(requests),
        max_steps=max_steps,
        created=True,
        models=sorted(models),
    )
