"""Pure stepping logic: parse a provider result, decide, build the step's messages.

No I/O and no clock (``now`` is passed in), so workflows and retried activities get
identical decisions and message ids.
"""

from letta_batch.stepping.decide import (
    Decision,
    DecisionAction,
    decide,
    finalize_after_tool,
    refusal_message,
)
from letta_batch.stepping.heartbeat import (
    HeartbeatKind,
    format_local_time,
    heartbeat_message,
    heartbeat_reason,
    heartbeat_text,
    json_dumps,
    package_function_response,
)
from letta_batch.stepping.messages import (
    assistant_message,
    failure_message,
    input_messages,
    message_id,
    refusal_tool_message,
    tool_message,
)
from letta_batch.stepping.outcome import (
    ParsedToolCall,
    ResultType,
    StepOutcome,
    Usage,
    parse_result,
)

__all__ = [
    "Decision",
    "DecisionAction",
    "HeartbeatKind",
    "ParsedToolCall",
    "ResultType",
    "StepOutcome",
    "Usage",
    "assistant_message",
    "decide",
    "failure_message",
    "finalize_after_tool",
    "format_local_time",
    "heartbeat_message",
    "heartbeat_reason",
    "heartbeat_text",
    "input_messages",
    "json_dumps",
    "message_id",
    "package_function_response",
    "parse_result",
    "refusal_message",
    "refusal_tool_message",
    "tool_message",
]
