"""Letta-compatible tool rules and ``ToolRulesSolver`` (pure, deterministic, no I/O)."""

from letta_batch.tool_rules.base import BaseToolRule, ToolRuleType
from letta_batch.tool_rules.conditional import NO_RESPONSE_ERROR, MappingKey
from letta_batch.tool_rules.prompts import COMPILED_PROMPT_DESCRIPTION, COMPILED_PROMPT_LABEL
from letta_batch.tool_rules.rules import (
    TOOL_RULE_ADAPTER,
    ChildToolRule,
    ConditionalToolRule,
    ContinueToolRule,
    InitToolRule,
    MaxCountPerStepToolRule,
    ParentToolRule,
    RequiredBeforeExitToolRule,
    RequiresApprovalToolRule,
    TerminalToolRule,
    ToolCallNode,
    ToolRule,
)
from letta_batch.tool_rules.solver import NO_VALID_TOOLS_ERROR, ToolRulesSolver

__all__ = [
    "COMPILED_PROMPT_DESCRIPTION",
    "COMPILED_PROMPT_LABEL",
    "NO_RESPONSE_ERROR",
    "NO_VALID_TOOLS_ERROR",
    "TOOL_RULE_ADAPTER",
    "BaseToolRule",
    "ChildToolRule",
    "ConditionalToolRule",
    "ContinueToolRule",
    "InitToolRule",
    "MappingKey",
    "MaxCountPerStepToolRule",
    "ParentToolRule",
    "RequiredBeforeExitToolRule",
    "RequiresApprovalToolRule",
    "TerminalToolRule",
    "ToolCallNode",
    "ToolRule",
    "ToolRuleType",
    "ToolRulesSolver",
]
