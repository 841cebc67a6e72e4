"""Golden test: the sample agent's request params, byte for byte.

Regenerate with ``UPDATE_GOLDEN=1 uv run pytest tests/providers/anthropic/test_request_golden.py``
and review the diff by hand: it is the exact JSON a batch request carries.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from letta_batch import json_codec
from letta_batch.providers.anthropic import build_request_params
from letta_batch.providers.anthropic.request_builder import build_stored_request
from tests.providers.anthropic.sample import TOOLS, sample_agent, sample_history, terminal_names

EXPECTED = Path(__file__).parent / "expected" / "sample_agent_request.json"


def render(params: dict) -> str:
    return json.dumps(params, indent=2, ensure_ascii=False) + "\n"


def test_sample_agent_request_matches_golden() -> None:
    agent = sample_agent()
    params = build_request_params(
        agent, sample_history(), TOOLS, terminal_tool_names=terminal_names(agent), step=1
    )
    text = render(params)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        EXPECTED.write_text(text, encoding="utf-8")
    assert text == EXPECTED.read_text(encoding="utf-8"), "run with UPDATE_GOLDEN=1 and review"


def test_output_is_deterministic_and_inputs_untouched() -> None:
    agent = sample_agent()
    history = sample_history()
    before = [m.model_dump_json() for m in history], [t.model_dump_json() for t in TOOLS]
    runs = [
        render(
            build_request_params(
                agent, history, TOOLS, terminal_tool_names={"send_message"}, step=1
            )
        )
        for _ in range(3)
    ]
    assert runs[0] == runs[1] == runs[2]
    assert before == ([m.model_dump_json() for m in history], [t.model_dump_json() for t in TOOLS])


def test_stored_body_is_the_params_as_json() -> None:
    """What ``build`` stores, made whole, must carry exactly the golden params,
    including when the serialised ``tools`` array is reused across agents and tool sets."""
    agent = sample_agent()
    history = sample_history()
    for tools in (TOOLS, TOOLS[:2], TOOLS, [], TOOLS[:2]):  # cache hits, misses and no tools
        kwargs = {"terminal_tool_names": terminal_names(agent), "step": 1}
        params = build_request_params(agent, history, tools, **kwargs)
        body = build_stored_request(agent, history, tools, **kwargs)[0].params()
        assert json.loads(body) == params
        assert list(json.loads(body)) == list(params)  # same key order


def test_stored_request_leaves_the_shared_tools_out_and_puts_them_back_byte_for_byte() -> None:
    agent = sample_agent()
    history = sample_history()
    kwargs = {"terminal_tool_names": terminal_names(agent), "step": 1}
    seen: dict[str, bytes] = {}
    for tools in (TOOLS, TOOLS[:2], TOOLS):
        stored, _ = build_stored_request(agent, history, tools, **kwargs)
        whole = json_codec.dumps_bytes(build_request_params(agent, history, tools, **kwargs))
        assert stored.params() == whole
        assert stored.size == len(whole)
        assert stored.tools is not None and stored.tools_id is not None
        assert json.loads(stored.tools) == json.loads(whole)["tools"]
        assert stored.tools not in stored.body and len(stored.body) == len(whole) - len(
            stored.tools
        )
        assert seen.setdefault(stored.tools_id, stored.tools) == stored.tools
    assert len(seen) == 2  # the same array has the same id, another array another


def test_stored_request_without_tools_is_whole() -> None:
    agent = sample_agent()
    stored, _ = build_stored_request(agent, sample_history(), [], terminal_tool_names=set(), step=1)
    assert (stored.tools_id, stored.tools, stored.tools_at) == (None, None, None)
    assert stored.params() == stored.body and "tools" not in json.loads(stored.body)
