"""Typed search attributes operators filter jobs by in the Temporal UI.

Example list filter: ``BatchJobId = 'job-…'`` or ``BatchPhase = 'poll' AND AgentCount >= 100``.
"""

from typing import Any

from temporalio.common import SearchAttributeKey

BATCH_JOB_ID = SearchAttributeKey.for_keyword("BatchJobId")
BATCH_PHASE = SearchAttributeKey.for_keyword("BatchPhase")
BATCH_STEP = SearchAttributeKey.for_int("BatchStep")
AGENT_COUNT = SearchAttributeKey.for_int("AgentCount")
BATCH_STATUS = SearchAttributeKey.for_keyword("BatchStatus")

ALL_KEYS: list[SearchAttributeKey[Any]] = [
    BATCH_JOB_ID,
    BATCH_PHASE,
    BATCH_STEP,
    AGENT_COUNT,
    BATCH_STATUS,
]
