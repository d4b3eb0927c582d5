"""Canonical JSON is the standard library's spelling, byte for byte: ledger hashes depend on it."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from service.kit.canonical import canonical_json


def standard(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=1000)
@given(json_values)
def test_matches_the_standard_library_for_any_json_value(value: object) -> None:
    assert canonical_json(value) == standard(value)


def test_floats_the_two_encoders_spell_differently() -> None:
    for value in (1e-05, 1e-07, 2.5e-320, 1e16, 1.5e300, -3e-9, 31.2834567, 0.0001):
        assert canonical_json({"v": value, "list": [value]}) == standard({"v": value, "list": [value]})


def test_values_orjson_refuses_take_the_standard_way() -> None:
    for value in ({1: "a", 2: "b"}, {"big": 2**70}, {"nan": float("nan"), "inf": [float("inf")]}):
        assert canonical_json(value) == standard(value)


def test_datetimes_are_written_as_iso_text() -> None:
    at = datetime(2026, 11, 28, 8, 30, 0, 123, tzinfo=UTC)
    assert canonical_json({"at": at}) == b'{"at":"2026-11-28T08:30:00.000123+00:00"}'


def test_floats_inside_container_subclasses_are_checked_too() -> None:
    class Items(list[object]):
        pass

    for value in (defaultdict(float, {"nan": float("nan")}), {"v": Items([1e-7])}, {"t": (1.5, float("-inf"))}):
        assert canonical_json(value) == standard(value)
