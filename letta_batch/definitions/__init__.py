"""Agent and tool definition files: format, validation, bulk loading.

A file is JSON or YAML ``{"tools": [...], "agents": [...]}`` using Letta's ``ToolCreate`` and
``CreateAgent`` field names. ``load_definitions`` validates it completely, then upserts it.
"""

from letta_batch.definitions.base_tools import (
    BASE_TOOL_SCHEMAS,
    BASE_TOOL_TYPES,
    MEMGPT_BASE_TOOLS,
    TERMINAL_BASE_TOOLS,
    V2_BASE_TOOLS,
    base_tools_for,
)
from letta_batch.definitions.errors import DefinitionError, Problem
from letta_batch.definitions.files import parse_definitions_text, read_definitions_file
from letta_batch.definitions.loader import LoadResult, load_definitions
from letta_batch.definitions.models import (
    AgentDefinition,
    BlockDefinition,
    DefinitionsFile,
    ToolDefinition,
)
from letta_batch.definitions.plan import LoadedEntry
from letta_batch.definitions.validate import validate_definitions

__all__ = [
    "BASE_TOOL_SCHEMAS",
    "BASE_TOOL_TYPES",
    "MEMGPT_BASE_TOOLS",
    "TERMINAL_BASE_TOOLS",
    "V2_BASE_TOOLS",
    "AgentDefinition",
    "BlockDefinition",
    "DefinitionError",
    "DefinitionsFile",
    "LoadResult",
    "LoadedEntry",
    "Problem",
    "ToolDefinition",
    "base_tools_for",
    "load_definitions",
    "parse_definitions_text",
    "read_definitions_file",
    "validate_definitions",
]
