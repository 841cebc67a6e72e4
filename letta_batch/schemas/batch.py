"""Batch jobs: the Letta job, one provider batch per step, one item per agent per step."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from letta_batch.schemas.enums import (
    AgentRunStatus,
    ItemRequestStatus,
    ItemStepStatus,
    JobStatus,
    ProviderBatchStatus,
    StopReason,
)
from letta_batch.tool_rules import ToolRulesSolver

DEFAULT_MAX_STEPS = 50


class AgentStepState(BaseModel):
    """Per-agent stepping state carried from step to step (stored on each item)."""

    step_number: int = 0
    """Model calls already made for this agent in this job."""
    tool_rules_solver: ToolRulesSolver = Field(default_factory=ToolRulesSolver)
    last_function_response: str | None = None
    """The previous tool's response; conditional rules route on it (Letta never passes it)."""

    def branch(self) -> AgentStepState:
        """An independent copy to evolve into the next step's state (see ``ToolRulesSolver.branch``)."""
        copied = self.model_copy()
        copied.__dict__["tool_rules_solver"] = self.tool_rules_solver.branch()
        return copied


class BatchJob(BaseModel):
    """A Letta batch job: one Temporal workflow stepping many agents."""

    id: str
    organization_id: str
    status: JobStatus = JobStatus.created
    max_steps: int = DEFAULT_MAX_STEPS
    """Exactly this many model calls per agent at most (Letta allows one more, §8.11)."""
    agent_count: int = 0
    current_step: int = 0
    stop_reason: str | None = None
    metadata: dict = Field(default_factory=dict)
    callback_url: str | None = None
    callback_sent_at: datetime | None = None
    callback_status_code: int | None = None
    callback_error: str | None = None
    idempotency_key: str | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None


class BatchJobAgent(BaseModel):
    """One agent's membership and outcome in a job."""

    job_id: str
    agent_id: str
    status: AgentRunStatus = AgentRunStatus.running
    stop_reason: StopReason | None = None
    reason: str | None = None
    """Human-readable detail of the stop reason (error text, pending call, …)."""
    steps: int = 0


class RequestCounts(BaseModel):
    processing: int = 0
    succeeded: int = 0
    errored: int = 0
    canceled: int = 0
    expired: int = 0


class LLMBatchPart(BaseModel):
    """One provider batch: part ``part`` of a step's requests (most steps have one part)."""

    llm_batch_id: str
    part: int = 0
    organization_id: str
    status: ProviderBatchStatus = ProviderBatchStatus.building
    provider_batch_id: str | None = None
    request_count: int = 0
    request_bytes: int = 0
    request_counts: RequestCounts | None = None
    create_batch_response: dict | None = None
    latest_polling_response: dict | None = None
    error: str | None = None
    last_polled_at: datetime | None = None
    intent_at: datetime | None = None
    sent_at: datetime | None = None
    ended_at: datetime | None = None


class LLMBatchJob(BaseModel):
    """The requests of one step of one job, sent as one or more provider batches (parts)."""

    id: str
    organization_id: str
    letta_batch_job_id: str
    step: int
    status: ProviderBatchStatus = ProviderBatchStatus.building
    llm_provider: str = "anthropic"
    provider_batch_id: str | None = None
    request_count: int = 0
    request_counts: RequestCounts | None = None
    """Summed over the parts."""
    sent_at: datetime | None = None
    ended_at: datetime | None = None
    """When the last part ended."""
    created_at: datetime | None = None


class LLMBatchItem(BaseModel):
    """One agent in one provider batch; its id is the request's ``custom_id`` (§8.1)."""

    id: str
    organization_id: str
    llm_batch_id: str
    letta_batch_job_id: str
    agent_id: str
    step: int
    llm_config: dict = Field(default_factory=dict)
    request_status: ItemRequestStatus = ItemRequestStatus.pending
    step_status: ItemStepStatus = ItemStepStatus.pending
    step_state: AgentStepState = Field(default_factory=AgentStepState)
    batch_request_result: dict | None = None
    decision: dict | None = None
    stop_reason: StopReason | None = None
    error: str | None = None
