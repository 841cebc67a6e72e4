"""Identifier helpers: derived ids must never change (stored rows are keyed by them)."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from letta_batch import ids


@given(st.lists(st.text(), min_size=1, max_size=4))
def test_derived_id_is_uuid5_of_the_joined_parts(parts: list[str]) -> None:
    expected = f"batch_item-{uuid.uuid5(ids._NAMESPACE, '|'.join(parts))}"
    assert ids.derived_id("batch_item", *parts) == expected


def test_derived_ids_are_stable_across_versions() -> None:
    # A value computed before the fast path; a change here would orphan stored rows.
    assert (
        ids.derived_id(ids.BATCH_ITEM, "batch_req-x", "agent-y")
        == "batch_item-5760a6d3-dd6b-5a48-8b27-71849ee95a82"
    )
    assert ids.has_prefix(ids.derived_id(ids.MESSAGE, "a"), ids.MESSAGE)
