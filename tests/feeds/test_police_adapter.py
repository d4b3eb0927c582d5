"""公安, read by its definition (shipped/police.toml): samples, messy values, every rejection naming its
field, and the caller's phone."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.feeds.definitions import shipped_adapter
from service.feeds.normalized import NormalizedRecord
from service.formats.fields import RecordRejected
from service.kit.personal import mask_phone
from service.vocabulary import CATEGORY_NAMES, SEVERITIES

police = shipped_adapter("police")
LABELS = {code: entry.label for code, entry in police.definition.category.map.items()}
PHONE = "13812345678"


def call(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "jjdbh": "31010620260902000216",
        "bjsj": "2026-09-02 06:20:00",
        "bjtj": "110电话",
        "bjlbdm": "0402",
        "bjlb": "火灾隐患",
        "afdz": "上海市静安区闻喜路237号1楼",
        "dwmc": "沙县小吃",
        "bjnr": "私拉电线",
        "gxdw": "临汾路派出所",
        "jqzt": "已结束",
        "bjrdh": PHONE,
        "jd": 121.449099,
        "wd": 31.306478,
    }
    for key, value in changes.items():
        if value is _DROP:
            item.pop(key, None)
        else:
            item[key] = value
    return item


_DROP = object()


def rejected_fields(item: Any, now: datetime) -> dict[str, str]:
    with pytest.raises(RecordRejected) as caught:
        police.parse(item, now=now)
    return {error.field: error.reason for error in caught.value.errors}


def test_every_sample_call_parses(samples: Path, now: datetime) -> None:
    lines = (samples / "police.jsonl").read_text(encoding="utf-8").splitlines()
    records = [police.parse(json.loads(line), now=now) for line in lines if line.strip()]
    assert len(records) >= 500
    for record in records:
        assert record.source == "police" and record.is_problem
        assert record.category in CATEGORY_NAMES and record.severity in SEVERITIES
        assert record.occurred_at.tzinfo is UTC
        assert "****" in record.payload["bjrdh"]
        assert record.title.startswith(LABELS[record.extra["category_code"]])
        assert (record.lat is None) == (record.lng is None)


def test_a_typical_call(now: datetime) -> None:
    record = police.parse(call(), now=now)
    assert record.source_record_id == "31010620260902000216"
    assert record.occurred_at == datetime(2026, 9, 1, 22, 20, tzinfo=UTC)  # 06:20 in Shanghai
    assert record.category == "fire" and record.severity == "high"
    assert record.title == "火灾隐患 · 上海市静安区闻喜路237号1楼"
    assert record.name == "沙县小吃" and record.address == "上海市静安区闻喜路237号1楼"
    assert record.description == "私拉电线" and record.status_text == "已结束"
    assert (record.lng, record.lat) == (121.449099, 31.306478)
    assert record.extra == {
        "category_code": "0402",
        "report_channel": "110电话",
        "police_station": "临汾路派出所",
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"dwmc": ""}, {"name": None}),
        ({"dwmc": "  沙县小吃 \u3000"}, {"name": "沙县小吃"}),
        ({"jd": _DROP, "wd": _DROP}, {"lat": None, "lng": None}),
        ({"jd": None, "wd": None}, {"lat": None, "lng": None}),
        ({"jd": "121.449099", "wd": " 31.306478 "}, {"lng": 121.449099, "lat": 31.306478}),
        ({"bjlbdm": 402}, {"category": "fire"}),  # a code that lost its leading zero
        ({"bjlbdm": "０４０２"}, {"category": "fire"}),
        ({"bjlbdm": "", "bjlb": "噪声扰民"}, {"category": "noise", "severity": "medium"}),
        ({"bjlbdm": _DROP, "bjlb": " 消费纠纷 "}, {"category": "price"}),
        ({"bjlbdm": "0401", "bjlb": "火灾"}, {"severity": "critical"}),
        ({"bjlbdm": "0101"}, {"category": "order", "severity": "medium"}),
        ({"bjlbdm": "0501"}, {"category": "other", "severity": "medium"}),
        ({"bjsj": "2026/09/02 06:20"}, {"occurred_at": datetime(2026, 9, 1, 22, 20, tzinfo=UTC)}),
        ({"bjsj": "2026-09-02T06:20:00+08:00"}, {"occurred_at": datetime(2026, 9, 1, 22, 20, tzinfo=UTC)}),
        ({"bjsj": "2026-9-2 6:20:00"}, {"occurred_at": datetime(2026, 9, 1, 22, 20, tzinfo=UTC)}),
        ({"afdz": "", "dwmc": "沙县小吃"}, {"title": "火灾隐患 · 沙县小吃", "address": None}),
        ({"afdz": None, "dwmc": None}, {"title": "火灾隐患"}),
        ({"jjdbh": 31010620260902000216}, {"source_record_id": "31010620260902000216"}),
        ({"bjnr": None}, {"description": ""}),
        ({"jqzt": 3}, {"status_text": "3"}),
    ],
)
def test_messy_but_readable_values(changes: dict[str, Any], expected: dict[str, Any], now: datetime) -> None:
    record = police.parse(call(**changes), now=now)
    for attribute, value in expected.items():
        assert getattr(record, attribute) == value, attribute


@pytest.mark.parametrize(
    ("changes", "field", "reason_part"),
    [
        ({"jjdbh": _DROP}, "jjdbh", "required"),
        ({"jjdbh": "  "}, "jjdbh", "required"),
        ({"jjdbh": ["x"]}, "jjdbh", "got a list"),
        ({"jjdbh": 3.1e19}, "jjdbh", "as text"),
        ({"jjdbh": "x" * 129}, "jjdbh", "longer than 128"),
        ({"bjsj": _DROP}, "bjsj", "required"),
        ({"bjsj": "2026-13-45 10:00:00"}, "bjsj", "not a real date-time"),
        ({"bjsj": "2026-02-30 10:00:00"}, "bjsj", "day is out of range"),
        ({"bjsj": "2026-09-02 25:00:00"}, "bjsj", "hour must be in"),
        ({"bjsj": "昨天下午"}, "bjsj", "not a date-time in YYYY-MM-DD HH:MM:SS: '昨天下午'"),
        ({"bjsj": 1788300000}, "bjsj", "got a number"),
        ({"bjsj": "0001-01-01 00:00:00"}, "bjsj", "year 1 is not plausible"),
        ({"bjsj": "2026-11-30 12:00:00"}, "bjsj", "future"),
        ({"bjlbdm": "0999"}, "bjlbdm", "unknown 报警类别代码 '0999'"),
        ({"bjlbdm": "04020"}, "bjlbdm", "4-digit"),
        ({"bjlbdm": "42"}, "bjlbdm", "unknown 报警类别代码 '0042'"),  # padded like a CSV's lost zeros, then unknown
        ({"bjlbdm": {"code": "0402"}}, "bjlbdm", "got an object"),
        ({"bjlbdm": "", "bjlb": "打架"}, "bjlb", "unknown 报警类别"),
        ({"bjlbdm": _DROP, "bjlb": _DROP}, "bjlbdm", "required"),
        ({"jd": _DROP}, "jd", "missing while wd"),
        ({"wd": ""}, "wd", "missing while jd"),
        ({"jd": 0, "wd": 0}, "wd", "outside China"),
        ({"jd": 31.306478, "wd": 121.449099}, "wd", "look swapped"),
        ({"jd": "东经121度"}, "jd", "not a number"),
        ({"jd": True}, "jd", "true/false"),
        ({"wd": float("nan")}, "wd", "not a finite number"),
        ({"afdz": {"road": "闻喜路"}}, "afdz", "got an object"),
        ({"afdz": "闻" * 301}, "afdz", "longer than 300"),
        ({"dwmc": ["沙县小吃"]}, "dwmc", "got a list"),
        ({"bjnr": "私拉\x00电线"}, "bjnr", "NUL"),
        ({"bjnr": "\ud800"}, "bjnr", "surrogate"),
        ({"bjrdh": ["13812345678"]}, "bjrdh", "got a list"),
    ],
)
def test_each_rejection_names_its_field(changes: dict[str, Any], field: str, reason_part: str, now: datetime) -> None:
    errors = rejected_fields(call(**changes), now)
    assert field in errors, errors
    assert reason_part in errors[field]


def test_every_bad_field_is_named_at_once(now: datetime) -> None:
    item = call(jjdbh="", bjsj="2026-02-30 10:00:00", bjlbdm="0999", jd=200.0, dwmc=[1])
    assert set(rejected_fields(item, now)) == {"jjdbh", "bjsj", "bjlbdm", "jd", "dwmc"}


def test_the_rejection_carries_the_record_id(now: datetime) -> None:
    with pytest.raises(RecordRejected) as caught:
        police.parse(call(bjsj="nonsense"), now=now)
    assert caught.value.source_record_id == "31010620260902000216"
    assert "bjsj" in str(caught.value)


@pytest.mark.parametrize("item", [[call()], "jjdbh", 42, None])
def test_a_record_that_is_not_an_object(item: Any, now: datetime) -> None:
    assert set(rejected_fields(item, now)) == {"(record)"}


def test_the_input_is_not_changed(now: datetime) -> None:
    item = call()
    police.parse(item, now=now)
    assert item["bjrdh"] == PHONE


# --- the caller's phone --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("021-56447818", "021****7818"),
        ("56447818", "******18"),
        ("12345", "***45"),
        ("110", "*10"),
        ("12", "****"),
        ("匿名", "****"),
    ],
)
def test_mask_phone(raw: str, masked: str) -> None:
    assert mask_phone(raw) == masked


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"bjrdh": 13812345678},
        {"bjrdh": 13812345678.0, "bjnr": f"回电{PHONE}"},
        {"bjrdh": " 138 1234 5678 "},
        {"bjnr": f"报警人{PHONE}称楼下私拉电线，回电138-1234-5678"},
        {"dwmc": f"沙县小吃{PHONE}"},
        {"afdz": f"闻喜路237号（联系+86{PHONE}）"},
        {"bjnr": "回电0138.1234.5678或13812345678"},
        {"jqzt": f"已回访{PHONE}"},
    ],
)
def test_the_phone_appears_nowhere_in_the_record(changes: dict[str, Any], now: datetime) -> None:
    record = police.parse(call(**changes), now=now)
    for dump in (repr(record), json.dumps(record.payload, ensure_ascii=False), json.dumps(record.extra)):
        assert PHONE not in dump and not any(f"1234{sep}5678" in dump for sep in "- .")
    assert record.payload["bjrdh"] == "138****5678"


def test_the_phone_appears_nowhere_in_a_rejection(now: datetime) -> None:
    with pytest.raises(RecordRejected) as caught:
        police.parse(call(bjsj=f"{PHONE}", afdz="闻" * 301, jd=PHONE), now=now)
    assert PHONE not in str(caught.value) and PHONE not in repr(caught.value.errors)


def test_an_empty_phone_stays_empty(now: datetime) -> None:
    assert police.parse(call(bjrdh=""), now=now).payload["bjrdh"] == ""
    assert "bjrdh" not in police.parse(call(bjrdh=_DROP), now=now).payload


@given(st.text(alphabet="0123456789 -+", min_size=7, max_size=20))
def test_a_masked_phone_never_shows_more_than_seven_digits(raw: str) -> None:
    masked = mask_phone(raw)
    digits = "".join(ch for ch in raw if ch.isdigit())
    assert sum(ch.isdigit() for ch in masked) <= 7
    if len(digits) >= 7:
        assert digits not in masked


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(list(call())), _json_values, max_size=8))
def test_any_json_gives_a_record_or_a_rejection(changes: dict[str, Any]) -> None:
    try:
        record = police.parse(call(**changes), now=datetime(2026, 11, 28, tzinfo=UTC))
    except RecordRejected as rejected:
        assert rejected.errors and all(error.field and error.reason for error in rejected.errors)
    else:
        assert isinstance(record, NormalizedRecord) and record.occurred_at.tzinfo is UTC
