"""Temporal workflows. Deterministic: no I/O, models imported through the sandbox passthrough."""

from workflows.batch_job import BatchJobWorkflow
from workflows.tool_fanout import ToolFanoutWorkflow

WORKFLOWS = [BatchJobWorkflow, ToolFanoutWorkflow]

__all__ = ["WORKFLOWS", "BatchJobWorkflow", "ToolFanoutWorkflow"]
