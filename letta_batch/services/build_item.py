"""One agent's provider request in ``build``: its context, system prompt and item row.

`RoundBuilder` turns the agents of one build round into item rows, one at a time, so the
rows can be copied into the database while the next ones are built; the messages they add
(step 0's inputs, recompiled system prompts) are gathered for the round's other writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from letta_batch import ids
from letta_batch.context import (
    compile_memory,
    compile_system_message,
    memory_metadata,
    needs_rebuild,
)
from letta_batch.contracts import BuildRequestsInput
from letta_batch.providers.anthropic.context_turns import ContextTurns, ids_digest
from letta_batch.providers.anthropic.request_builder import (
    ConvertedHistory,
    build_stored_request,
    history_conversion,
)
from letta_batch.schemas import (
    Agent,
    AgentStepState,
    ItemRequestStatus,
    ItemStepStatus,
    Message,
    MessageCreate,
    StopReason,
    TextContent,
    ToolType,
)
from letta_batch.services.build_context import AgentContext
from letta_batch.stepping.batch_parts import PartPlanner
from letta_batch.stepping.messages import input_messages
from letta_batch.tool_rules import ToolRulesSolver

#: Tool types offered to the model. Letta's batch path drops the sleeptime memory tools
#: memgpt_v2 agents rely on (§8.10); we offer them.
OFFERED_TOOL_TYPES = frozenset(
    {
        ToolType.custom,
        ToolType.letta_core,
        ToolType.letta_memory_core,
        ToolType.letta_sleeptime_core,
    }
)

#: Histories shorter than this many messages are converted whole each step: a step's build
#: reads, validates and converts a message in ~25 µs, and keeping a few messages' turns
#: (written, compressed and read back every step) costs more than that. Measured break-even:
#: 11–14 history messages; 12 and 16 did not differ beyond the noise (``bench/README.md``,
#: fourteenth session, "When keeping converted turns pays").
KEEP_TURNS_FROM = 16

#: The columns of every item row `RoundBuilder.row` makes (the COPY's column list).
ITEM_COLUMNS = (
    "id",
    "organization_id",
    "llm_batch_id",
    "letta_batch_job_id",
    "agent_id",
    "step",
    "llm_config",
    "request_status",
    "step_status",
    "step_state",
    "part",
    "request_body",
    "request_tools_id",
    "request_tools_at",
    "context_turns",
    "batch_request_result",
    "decision",
    "stop_reason",
    "error",
    "created_at",
    "updated_at",
)


def batch_item_id_for(llm_batch_id: str, agent_id: str) -> str:
    return ids.derived_id(ids.BATCH_ITEM, llm_batch_id, agent_id)


@dataclass
class RoundBuilder:
    """Builds the item rows of one round of agents and gathers what they add."""

    arg: BuildRequestsInput
    llm_batch_id: str
    planner: PartPlanner
    clock: Callable[[], datetime]
    """Row timestamps (the service's clock)."""
    now: datetime
    """The round's clock reading, for the memory metadata."""
    job_inputs: dict[str, list[MessageCreate]]
    """Step 0's input messages by agent."""
    totals: dict[str, int]
    """Messages stored per agent (recall memory size)."""
    archival: dict[str, tuple[list[str], int]]
    """Archival passage tags and count per agent."""
    new_messages: list[Message] = field(default_factory=list)
    message_ids: dict[str, list[str]] = field(default_factory=dict)
    """Agents whose ``message_ids`` gain this step's input messages."""
    system_texts: dict[str, str] = field(default_factory=dict)
    """Recompiled system prompts by system message id."""
    tool_sets: dict[str, bytes] = field(default_factory=dict)
    """The shared ``tools`` arrays the round's requests send, by row id (``request_tool_sets``)."""
    _tool_set_ids: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    items: int = 0
    failed: int = 0

    def row(self, agent: Agent, previous: AgentStepState | None, loaded: AgentContext) -> dict:
        """``agent``'s item row: its request, or why it fails at build."""
        arg = self.arg
        item_id = batch_item_id_for(self.llm_batch_id, agent.id)
        state = previous or AgentStepState(
            tool_rules_solver=ToolRulesSolver(tool_rules=agent.tool_rules)
        )
        context = list(loaded.messages)
        history_ids = agent.message_ids[1:]
        if arg.step == 0:
            created = input_messages(agent.id, item_id, arg.step, self.job_inputs.get(agent.id, []))
            self.new_messages.extend(created)
            context.extend(created)
            self.message_ids[agent.id] = [*agent.message_ids, *(m.id for m in created)]
            history_ids = self.message_ids[agent.id][1:]
        solver = state.tool_rules_solver
        memory = compile_memory(agent, tool_rules_solver=solver)
        system = context[0]
        if needs_rebuild(agent, system.text(), memory):
            text = self._system_text(agent, memory)
            self.system_texts[system.id] = text
            context[0] = system.model_copy(update={"content": [TextContent(text=text)]})
        row = self._item_row(item_id, agent, state)
        self.items += 1
        offered = sorted(t.name for t in agent.tools if t.tool_type in OFFERED_TOOL_TYPES)
        try:
            allowed = solver.get_allowed_tool_names(
                offered,
                error_on_empty=True,
                last_function_response=state.last_function_response,
            )
        except ValueError as exc:
            return self._failed(row, StopReason.tool_rule_error, str(exc))
        tools = [t for t in agent.tools if t.name in set(allowed)]
        request, history = build_stored_request(
            agent,
            context,
            tools,
            # One pass over the rules, not one per offered tool (is_terminal_tool).
            terminal_tool_names={r.tool_name for r in solver.terminal_tool_rules}
            & {t.name for t in tools},
            step=arg.step,
            prior=loaded.prior,
        )
        part = self.planner.place(item_id, request.size)
        if part is None:
            return self._failed(row, StopReason.error, self.planner.oversize_reason(request.size))
        row.update(
            request_body=request.body,
            request_tools_id=self._tool_set_id(request.tools_id, request.tools),
            request_tools_at=request.tools_at,
            context_turns=self._kept_turns(agent, history_ids, history),
            part=part,
        )
        return row

    def _kept_turns(
        self, agent: Agent, history_ids: list[str], history: ConvertedHistory
    ) -> bytes | None:
        """The history's converted turns for the next build of the agent, in this job or
        the next (``ContextTurns``); not kept for a short history, which costs less to
        convert again than to write and read back."""
        if len(history_ids) < KEEP_TURNS_FROM:
            return None
        model, inner_thoughts = history_conversion(agent)
        return ContextTurns(
            model=model,
            inner_thoughts=inner_thoughts,
            count=len(history_ids),
            digest=ids_digest(history_ids),
            called=history.called,
            turns=history.turns,
        ).to_bytes()

    def _tool_set_id(self, digest: str | None, tools: bytes | None) -> str | None:
        """The row id of a shared ``tools`` array: one row per array per shard and step, so
        a shard's build never waits on another's transaction to insert the same row."""
        if digest is None or tools is None:
            return None
        row_id = self._tool_set_ids.get(digest)
        if row_id is None:
            row_id = ids.derived_id(
                ids.TOOL_SET, self.llm_batch_id, str(self.arg.shard.index), digest
            )
            self._tool_set_ids[digest] = row_id
            self.tool_sets[row_id] = tools
        return row_id

    def _system_text(self, agent: Agent, memory: Any) -> str:
        tags, n_archival = self.archival.get(agent.id, ([], 0))
        return compile_system_message(
            agent,
            memory,
            memory_metadata(
                agent.id,
                self.now,
                agent.timezone,
                previous_message_count=max(
                    0, self.totals.get(agent.id, 0) - len(agent.message_ids)
                ),
                archival_count=n_archival,
                archival_tags=tags,
            ),
        )

    def _failed(self, row: dict[str, Any], stop_reason: StopReason, error: str) -> dict:
        self.failed += 1
        row.update(
            step_status=ItemStepStatus.failed.value, stop_reason=stop_reason.value, error=error
        )
        return row

    def _item_row(self, item_id: str, agent: Agent, state: AgentStepState) -> dict[str, Any]:
        arg = self.arg
        now = self.clock()
        return {
            "id": item_id,
            "organization_id": arg.organization_id,
            "llm_batch_id": self.llm_batch_id,
            "letta_batch_job_id": arg.job_id,
            "agent_id": agent.id,
            "step": arg.step,
            "llm_config": agent.llm_config.model_dump(mode="json"),
            "request_status": ItemRequestStatus.pending.value,
            "step_status": ItemStepStatus.pending.value,
            "step_state": state.model_dump(mode="json"),
            # The shard's first part; placed requests move to theirs, agents that fail here stay.
            "part": arg.shard.index,
            "request_body": None,
            "request_tools_id": None,
            "request_tools_at": None,
            "context_turns": None,
            "batch_request_result": None,
            "decision": None,
            "stop_reason": None,
            "error": None,
            "created_at": now,
            "updated_at": now,
        }
