"""Status and type enums.

Letta overloads one ``JobStatus`` for the job, the provider batch and each agent's request
(spec §8.16). Here every level has its own enum, so a value can only mean one thing.
"""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    """Status of a Letta batch job (one Temporal workflow)."""

    created = "created"
    running = "running"
    completed = "completed"
    completed_with_failures = "completed_with_failures"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_JOB_STATUSES


TERMINAL_JOB_STATUSES = frozenset(
    {
        JobStatus.completed,
        JobStatus.completed_with_failures,
        JobStatus.failed,
        JobStatus.cancelled,
    }
)

#: Legal job transitions; anything else (e.g. completed -> running) is refused.
JOB_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.created: frozenset({JobStatus.running, JobStatus.failed, JobStatus.cancelled}),
    JobStatus.running: frozenset(TERMINAL_JOB_STATUSES),
    JobStatus.completed: frozenset(),
    JobStatus.completed_with_failures: frozenset(),
    JobStatus.failed: frozenset(),
    JobStatus.cancelled: frozenset(),
}


class ProviderBatchStatus(StrEnum):
    """Status of one provider batch (one ``LLMBatchJob`` row, one per step)."""

    building = "building"  # requests being written; nothing sent
    intent = "intent"  # send intent recorded, provider call may be in flight
    in_progress = "in_progress"  # provider accepted it
    canceling = "canceling"
    ended = "ended"  # provider finished; results readable
    collected = "collected"  # results stored on the items
    failed = "failed"  # provider refused it (non-retryable)


class ItemRequestStatus(StrEnum):
    """Outcome of one agent's request inside a provider batch (the provider's result type)."""

    pending = "pending"
    succeeded = "succeeded"
    errored = "errored"
    expired = "expired"
    canceled = "canceled"


class ItemStepStatus(StrEnum):
    """Progress of one agent's step after the provider answered."""

    pending = "pending"  # waiting for the provider
    decided = "decided"  # continue/stop decided, tool calls recorded
    tools_done = "tools_done"  # every tool call has a stored result
    completed = "completed"  # messages persisted; step finished
    failed = "failed"  # the agent failed in this step (reason recorded)
    cancelled = "cancelled"


class AgentRunStatus(StrEnum):
    """Final (or current) status of one agent within one batch job."""

    running = "running"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"
    requires_approval = "requires_approval"

    @property
    def is_terminal(self) -> bool:
        return self is not AgentRunStatus.running


class StopReason(StrEnum):
    """Why an agent stopped stepping (Letta's stop-reason vocabulary plus batch-specific ones)."""

    end_turn = "end_turn"  # heartbeat not requested and no rule forces continuation
    terminal_tool = "terminal_tool"
    max_steps = "max_steps"
    requires_approval = "requires_approval"
    no_tool_call = "no_tool_call"
    invalid_tool_call = "invalid_tool_call"
    unknown_stop_reason = "unknown_stop_reason"
    tool_rule_error = "tool_rule_error"
    provider_error = "provider_error"
    expired = "expired"
    canceled = "canceled"
    cancelled = "cancelled"
    error = "error"


class MessageRole(StrEnum):
    assistant = "assistant"
    user = "user"
    tool = "tool"
    function = "function"
    system = "system"
    approval = "approval"
    summary = "summary"


class ToolType(StrEnum):
    custom = "custom"
    letta_core = "letta_core"
    letta_memory_core = "letta_memory_core"
    letta_sleeptime_core = "letta_sleeptime_core"
    letta_multi_agent_core = "letta_multi_agent_core"
    letta_voice_sleeptime_core = "letta_voice_sleeptime_core"
    letta_builtin = "letta_builtin"
    letta_files_core = "letta_files_core"
    external_mcp = "external_mcp"


#: Tool types whose tools run natively (set-based) instead of in the sandbox.
BUILTIN_TOOL_TYPES = frozenset(
    {ToolType.letta_core, ToolType.letta_memory_core, ToolType.letta_sleeptime_core}
)


class AgentType(StrEnum):
    memgpt_agent = "memgpt_agent"
    memgpt_v2_agent = "memgpt_v2_agent"
    letta_v1_agent = "letta_v1_agent"
    react_agent = "react_agent"
    workflow_agent = "workflow_agent"
    split_thread_agent = "split_thread_agent"
    sleeptime_agent = "sleeptime_agent"
    voice_convo_agent = "voice_convo_agent"
    voice_sleeptime_agent = "voice_sleeptime_agent"


class ProviderType(StrEnum):
    """Providers with a batch adapter. Only Anthropic today (as Letta)."""

    anthropic = "anthropic"
