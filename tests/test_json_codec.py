"""json_codec: orjson with the standard library's output rules."""

from __future__ import annotations

import json

from letta_batch import json_codec


def test_sorted_keys_match_the_standard_library_at_every_level() -> None:
    value = {"b": {"ü": 1, "a": [{"z": None, "é": 0.25}]}, "a": "é\n", "B": True}
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert json_codec.dumps_bytes(value, sort_keys=True) == expected.encode()
    assert (
        json_codec.dumps_bytes(value)
        == json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    )


def test_sorted_keys_survive_the_fallback_for_integers_beyond_64_bits() -> None:
    value = {"z": 2**70, "a": {"y": 1, "x": 2}}
    assert json_codec.dumps_bytes(value, sort_keys=True) == b'{"a":{"x":2,"y":1},"z":%d}' % 2**70
