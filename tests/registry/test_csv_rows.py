"""Register rows: the sample register, aliases, and each column's rejection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from service.formats.files import read_rows
from service.registry.csv_rows import (
    REQUIRED_COLUMNS,
    RegistryRow,
    RegistryRowRejected,
    parse_registry_row,
    split_aliases,
)


def entry(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "entity_id": "LF-000001",
        "kind": "shop",
        "name": "鑫源快递驿站",
        "legal_name": "上海鑫源物流有限公司",
        "uscc": "91310106MAWTCDKQ21",
        "address": "岭南路583号",
        "community": "闻喜苑",
        "grid": "LF-02",
        "lat": "31.297083",
        "lng": "121.455159",
        "aliases": "",
        "phone": "021-60682674",
    }
    row.update(changes)
    return row


def rejected_columns(row: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(RegistryRowRejected) as caught:
        parse_registry_row(row)
    return {error.field: error.reason for error in caught.value.errors}


def test_every_sample_row_parses(samples: Path) -> None:
    rows = read_rows((samples / "registry.csv").read_bytes(), "registry.csv", None, required_columns=REQUIRED_COLUMNS)
    parsed = [parse_registry_row(values) for _, values in rows]
    assert len(parsed) >= 800 and len({row.entity_id for row in parsed}) == len(parsed)
    assert {row.kind for row in parsed} <= {"shop", "hospital", "school", "other"}
    assert any(row.aliases for row in parsed) and all(row.lat is not None for row in parsed)


def test_a_typical_row() -> None:
    assert parse_registry_row(entry()) == RegistryRow(
        entity_id="LF-000001",
        kind="shop",
        name="鑫源快递驿站",
        legal_name="上海鑫源物流有限公司",
        uscc="91310106MAWTCDKQ21",
        address="岭南路583号",
        community="闻喜苑",
        grid="LF-02",
        lat=31.297083,
        lng=121.455159,
        aliases=[],
        phone="021-60682674",
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"kind": " School "}, {"kind": "school"}),
        ({"uscc": ""}, {"uscc": None}),
        ({"uscc": "91310106MAWTCDKQ2X"}, {"uscc": "91310106MAWTCDKQ2X"}),  # a wrong check character is kept
        ({"lat": "", "lng": None}, {"lat": None, "lng": None}),
        ({"lat": 31.297083, "lng": 121.455159}, {"lat": 31.297083}),  # numbers from XLSX
        ({"aliases": "老陈理发店| 陈记 |老陈理发店|"}, {"aliases": ["老陈理发店", "陈记"]}),
        ({"aliases": "鑫源快递驿站｜菜鸟驿站"}, {"aliases": ["菜鸟驿站"]}),
        ({"phone": 2160682674}, {"phone": "2160682674"}),
        ({"entity_id": " LF_0001 "}, {"entity_id": "LF_0001"}),
        ({"legal_name": None, "community": ""}, {"legal_name": None, "community": None}),
    ],
)
def test_messy_but_readable_values(changes: dict[str, Any], expected: dict[str, Any]) -> None:
    row = parse_registry_row(entry(**changes))
    for attribute, value in expected.items():
        assert getattr(row, attribute) == value, attribute


@pytest.mark.parametrize(
    ("changes", "column", "reason_part"),
    [
        ({"entity_id": ""}, "entity_id", "required"),
        ({"entity_id": "LF 0001"}, "entity_id", "letters, digits"),
        ({"entity_id": "店-1"}, "entity_id", "letters, digits"),
        ({"entity_id": "x" * 65}, "entity_id", "1–64"),
        ({"kind": "restaurant"}, "kind", "unknown kind 'restaurant'"),
        ({"kind": None}, "kind", "required"),
        ({"name": "  "}, "name", "required"),
        ({"name": ["a"]}, "name", "got a list"),
        ({"lat": "北纬31度"}, "lat", "not a number"),
        ({"lat": "121.455159", "lng": "31.297083"}, "lat", "swapped"),
        ({"lat": "0", "lng": "0"}, "lng", "outside China"),
        ({"lat": True}, "lat", "expected a number"),
        ({"lat": ""}, "lat", "missing while lng is given"),
        ({"address": "路" * 301}, "address", "longer than 300"),
        ({"grid": "g" * 65}, "grid", "longer than 64"),
    ],
)
def test_each_rejection_names_its_column(changes: dict[str, Any], column: str, reason_part: str) -> None:
    errors = rejected_columns(entry(**changes))
    assert column in errors, errors
    assert reason_part in errors[column]


def test_every_bad_column_is_named_at_once() -> None:
    with pytest.raises(RegistryRowRejected) as caught:
        parse_registry_row(entry(entity_id="bad id", kind="x", name="", lat="999"))
    assert caught.value.entity_id == "bad id"
    assert {error.field for error in caught.value.errors} == {"entity_id", "kind", "name", "lat"}


def test_split_aliases() -> None:
    assert split_aliases(None) == []
    assert split_aliases("a|b｜c| |a", exclude="c") == ["a", "b"]
