"""Typed inputs and outputs of every workflow, activity, query and update.

Only ids and counts cross the Temporal boundary: requests, results, messages and tool
arguments live in the database. These models are persisted in workflow histories, so they
are contracts: add fields only as optional with defaults, never rename or remove.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field, model_validator


class PollSettings(BaseModel):
    """Durable-timer backoff between ``poll_batch`` calls.

    Anthropic says most batches end within an hour and all within 24 h, so the interval starts
    short (cheap, small batches come back fast) and grows to a cap that keeps history small.
    """

    initial_seconds: float = 15.0
    """First wait after the batch is submitted."""
    factor: float = 1.5
    """Growth of the interval after each poll that finds the batch still running."""
    max_seconds: float = 300.0
    """Cap of the interval."""


class Shard(BaseModel):
    """Which slice of a step one phase activity works on.

    A step's items are split between ``count`` concurrent activities of the same phase, so
    that several worker processes (one per core) share a large step. An item belongs to shard
    ``part % count``: ``build`` numbers the parts of shard ``index`` as ``index``,
    ``index + count``, … and gives its agents that fail at build the part ``index``.
    """

    index: int = Field(default=0, ge=0)
    count: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _index_below_count(self) -> Shard:
        if self.index >= self.count:
            raise ValueError(f"shard.index: {self.index} is not below shard.count {self.count}")
        return self


class Phase(StrEnum):
    """Where a job is inside a step (shown in the UI and carried across continue-as-new)."""

    build = "build"
    send = "send"
    poll = "poll"
    collect = "collect"
    decide = "decide"
    settle = "settle"
    """Decide, built-in tools and persist in one pass (jobs started since ``settle-step``)."""
    tools = "tools"
    persist = "persist"
    finalize = "finalize"
    done = "done"


class BatchJobInput(BaseModel):
    """Input of ``BatchJobWorkflow``: the job id plus a resume cursor after continue-as-new."""

    job_id: str
    organization_id: str
    max_steps: int = 50
    poll: PollSettings = Field(default_factory=PollSettings)
    event_budget: int = 8_000
    """Continue-as-new once history reaches this many events (or when the server suggests it)."""
    step: int = 0
    """Resume cursor: the step to run (0 on the first run)."""
    phase: Phase = Phase.build
    """Resume cursor: the phase of ``step`` to resume at."""
    llm_batch_id: str | None = None
    """Resume cursor: the provider batch of ``step`` when resuming at or after ``send``."""
    poll_interval_seconds: float | None = None
    """Resume cursor: the current poll interval when resuming in ``poll``."""
    run_index: int = 0
    """How many times this job has continued as new."""
    cancel_requested: bool = False
    """Carried across continue-as-new so a requested cancel is not lost."""
    shards: int = Field(default=1, ge=1)
    """Run build, collect, decide, built-in tools and persist as this many concurrent
    activities per step, each on its own slice of the agents (see ``Shard``)."""


class BatchJobResult(BaseModel):
    job_id: str
    status: str
    steps: int
    agents_completed: int = 0
    agents_failed: int = 0
    agents_cancelled: int = 0
    runs: int = 1


class JobProgress(BaseModel):
    """Answer of the ``progress`` query: live state of the job."""

    job_id: str
    step: int
    phase: Phase
    llm_batch_id: str | None = None
    provider_batch_id: str | None = None
    provider_batches: int = 0
    """Provider batches the step was sent as (parts); ``provider_batch_id`` is the first."""
    agents_in_step: int = 0
    polls: int = 0
    next_poll_seconds: float | None = None
    cancel_requested: bool = False
    run_index: int = 0


class CancelJobInput(BaseModel):
    reason: str = "cancelled by operator"


class CancelJobOutput(BaseModel):
    job_id: str
    accepted: bool
    phase: Phase
    provider_batch_id: str | None = None


# --- activities -------------------------------------------------------------------------


class JobRef(BaseModel):
    job_id: str
    organization_id: str


class StartJobOutput(BaseModel):
    agent_count: int
    max_steps: int
    models: list[str] = Field(default_factory=list)


class BuildRequestsInput(BaseModel):
    job_id: str
    organization_id: str
    step: int
    max_steps: int
    shard: Shard = Field(default_factory=Shard)


class BuildRequestsOutput(BaseModel):
    llm_batch_id: str
    request_count: int
    failed_count: int = 0
    """Agents that could not be stepped (e.g. no tool allowed by their rules); failed with reason."""


class LLMBatchRef(BaseModel):
    llm_batch_id: str
    organization_id: str
    shard: Shard = Field(default_factory=Shard)
    """The slice of the step to work on (collect, built-in tools); send, poll and cancel
    always cover the whole step."""


class SendBatchOutput(BaseModel):
    provider_batch_id: str | None
    status: str
    request_count: int
    reused: bool = False
    """True when a batch created by an earlier attempt was found and reused."""
    parts: int = 1
    """Provider batches the step was sent as (more than one when it exceeds a batch's
    limits); ``provider_batch_id`` is the first."""


class PollBatchOutput(BaseModel):
    provider_batch_id: str | None
    processing_status: str
    ended: bool
    processing: int = 0
    succeeded: int = 0
    errored: int = 0
    canceled: int = 0
    expired: int = 0


class CollectResultsOutput(BaseModel):
    succeeded: int = 0
    errored: int = 0
    canceled: int = 0
    expired: int = 0
    missing: int = 0


class ApplyDecisionsInput(BaseModel):
    llm_batch_id: str
    organization_id: str
    max_steps: int
    shard: Shard = Field(default_factory=Shard)


class ApplyDecisionsOutput(BaseModel):
    continuing: int = 0
    stopping: int = 0
    failed: int = 0
    builtin_calls: int = 0
    custom_calls: int = 0
    approvals: int = 0


class RunToolsOutput(BaseModel):
    executed: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    """Calls already executed by an earlier attempt (results reused, effects not re-applied)."""


class CustomToolPageInput(BaseModel):
    llm_batch_id: str
    organization_id: str
    after_id: str | None = None
    limit: int = 500


class CustomToolCallRef(BaseModel):
    execution_id: str
    tool_name: str
    timeout_seconds: float
    max_attempts: int
    initial_interval_seconds: float
    backoff_coefficient: float
    maximum_interval_seconds: float


class CustomToolPage(BaseModel):
    calls: list[CustomToolCallRef] = Field(default_factory=list)
    next_after_id: str | None = None


class CustomToolCallInput(BaseModel):
    execution_id: str
    organization_id: str


class CustomToolCallOutput(BaseModel):
    execution_id: str
    status: str


class RecordToolFailureInput(BaseModel):
    execution_id: str
    organization_id: str
    reason: str


class ToolFanoutInput(BaseModel):
    """Input of the child workflow that runs one step's custom tool calls."""

    llm_batch_id: str
    organization_id: str
    max_concurrent: int = 50
    page_size: int = 500
    after_id: str | None = None
    completed: int = 0
    failed: int = 0


class ToolFanoutOutput(BaseModel):
    completed: int = 0
    failed: int = 0


class PersistStepInput(BaseModel):
    llm_batch_id: str
    organization_id: str
    max_steps: int
    shard: Shard = Field(default_factory=Shard)
    after_settle: bool = False
    """The step was settled (``settle_step``): failed items it already wrote are skipped."""


class PersistStepOutput(BaseModel):
    continuing: int = 0
    completed: int = 0
    failed: int = 0
    requires_approval: int = 0
    messages_written: int = 0


class SettleStepInput(BaseModel):
    """Input of ``settle_step`` (decide, built-in tools and persist in one pass)."""

    llm_batch_id: str
    organization_id: str
    max_steps: int
    shard: Shard = Field(default_factory=Shard)


class SettleStepOutput(BaseModel):
    """Output of ``settle_step``.

    The agent counts are the shard's final ones when ``custom_calls`` is 0; otherwise the
    tool fan-out and ``persist_step`` finish the step and report them.
    """

    settled: int = 0
    """Items whose messages and statuses this call wrote."""
    builtin_executed: int = 0
    custom_calls: int = 0
    """Custom tool calls still pending: the step goes on with the fan-out, then persist."""
    continuing: int = 0
    completed: int = 0
    failed: int = 0
    requires_approval: int = 0
    messages_written: int = 0


class CancelProviderBatchOutput(BaseModel):
    provider_batch_id: str | None
    processing_status: str | None


class FinalizeJobInput(BaseModel):
    job_id: str
    organization_id: str
    cancelled: bool = False
    reason: str | None = None
    steps: int = 0


class FinalizeJobOutput(BaseModel):
    status: str
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    requires_approval: int = 0
    callback_url_set: bool = False


class CallbackOutput(BaseModel):
    sent: bool
    status_code: int | None = None
    error: str | None = None
