"""城管 adapter: samples, GCJ-02 conversion, times with offsets, category fallback, rejections."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from service.feeds.definitions import shipped_adapter
from service.formats.fields import RecordRejected
from service.matching.geo import gcj02_to_wgs84, haversine_m
from service.vocabulary import CATEGORY_NAMES, SEVERITIES

city = shipped_adapter("city")

GCJ: dict[str, Any] = {"lng": 121.461116, "lat": 31.304674, "crs": "GCJ-02"}


def case(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "taskId": "2609G0000269",
        "infoSource": "监督员上报",
        "categoryCode": "06028",
        "categoryName": "噪声扰民",
        "description": "深夜顾客喧哗",
        "address": "闻喜路738号",
        "shopName": "闻喜火锅店",
        "location": dict(GCJ),
        "discoverTime": "2026-09-01T23:36:00+08:00",
        "deadline": "2026-09-03T23:36:00+08:00",
        "stage": "已立案",
        "photos": [],
        "gridCode": "310106021008",
        "reporter": "监督员郭艳",
    }
    item.update(changes)
    return item


def rejected_fields(item: Any, now: datetime) -> dict[str, str]:
    with pytest.raises(RecordRejected) as caught:
        city.parse(item, now=now)
    return {error.field: error.reason for error in caught.value.errors}


def test_every_sample_case_parses(samples: Path, now: datetime) -> None:
    lines = (samples / "city.jsonl").read_text(encoding="utf-8").splitlines()
    records = [city.parse(json.loads(line), now=now) for line in lines if line.strip()]
    assert len(records) >= 1000
    for record in records:
        assert record.is_problem and record.category in CATEGORY_NAMES and record.severity in SEVERITIES
        assert record.occurred_at.tzinfo is UTC
        assert record.lat is not None and record.lng is not None
        # converted from GCJ-02: the payload keeps the original, a few hundred metres away
        original = record.payload["location"]
        assert 100 < haversine_m(record.lat, record.lng, original["lat"], original["lng"]) < 1000


def test_a_typical_case(now: datetime) -> None:
    record = city.parse(case(), now=now)
    assert record.source_record_id == "2609G0000269"
    assert record.occurred_at == datetime(2026, 9, 1, 15, 36, tzinfo=UTC)
    assert record.category == "noise" and record.severity == "low"
    assert record.title == "噪声扰民 · 闻喜路738号"
    assert record.name == "闻喜火锅店" and record.status_text == "已立案"
    assert (record.lng, record.lat) == pytest.approx(gcj02_to_wgs84(GCJ["lng"], GCJ["lat"]))
    assert record.extra["deadline"] == "2026-09-03T15:36:00+00:00"
    assert record.payload["location"] == GCJ  # verbatim


@pytest.mark.parametrize(
    ("location", "converted"),
    [
        ({"lng": 121.461116, "lat": 31.304674}, True),  # GCJ-02 is the default
        ({"lng": 121.461116, "lat": 31.304674, "crs": None}, True),
        ({"lng": 121.461116, "lat": 31.304674, "crs": "gcj02"}, True),
        ({"lng": "121.461116", "lat": "31.304674", "crs": "GCJ-02"}, True),
        ({"lng": 121.461116, "lat": 31.304674, "crs": "WGS-84"}, False),
        ({"lng": 121.461116, "lat": 31.304674, "crs": "WGS84"}, False),
        ({"lng": 121.461116, "lat": 31.304674, "crs": "wgs84"}, False),
    ],
)
def test_coordinate_systems(location: dict[str, Any], converted: bool, now: datetime) -> None:
    record = city.parse(case(location=location), now=now)
    assert record.lat is not None and record.lng is not None
    expected = gcj02_to_wgs84(121.461116, 31.304674) if converted else (121.461116, 31.304674)
    assert math.isclose(record.lng, expected[0]) and math.isclose(record.lat, expected[1])


@pytest.mark.parametrize("location", [None, {}, {"lng": None, "lat": None}])
def test_an_unknown_location(location: Any, now: datetime) -> None:
    record = city.parse(case(location=location), now=now)
    assert record.lat is None and record.lng is None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"discoverTime": "2026-09-01T15:36:00Z"}, {"occurred_at": datetime(2026, 9, 1, 15, 36, tzinfo=UTC)}),
        ({"discoverTime": "2026-09-01 23:36:00"}, {"occurred_at": datetime(2026, 9, 1, 15, 36, tzinfo=UTC)}),
        ({"discoverTime": "2026-09-01T23:36"}, {"occurred_at": datetime(2026, 9, 1, 15, 36, tzinfo=UTC)}),
        (
            {"discoverTime": "2026-09-01T23:36:00.250+0800"},
            {"occurred_at": datetime(2026, 9, 1, 15, 36, 0, 250000, tzinfo=UTC)},
        ),
        ({"categoryCode": 6028}, {"category": "noise"}),
        ({"categoryCode": "", "categoryName": "占用消防通道"}, {"category": "fire", "severity": "high"}),
        ({"categoryCode": "12345", "categoryName": "垃圾站(箱)满溢"}, {"category": "waste"}),
        ({"categoryCode": "06042", "categoryName": "别的"}, {"category": "waste"}),  # the code wins
        ({"shopName": None}, {"name": None, "title": "噪声扰民 · 闻喜路738号"}),
        ({"address": "", "shopName": "闻喜火锅店"}, {"title": "噪声扰民 · 闻喜火锅店", "address": None}),
        ({"stage": "  已结案 "}, {"status_text": "已结案"}),
    ],
)
def test_messy_but_readable_values(changes: dict[str, Any], expected: dict[str, Any], now: datetime) -> None:
    record = city.parse(case(**changes), now=now)
    for attribute, value in expected.items():
        assert getattr(record, attribute) == value, attribute


def test_the_deadline_is_optional(now: datetime) -> None:
    assert city.parse(case(deadline=None), now=now).extra["deadline"] is None


def test_photos_are_kept_in_extra(now: datetime) -> None:
    record = city.parse(case(photos=[" https://cg.example/1.jpg ", ""]), now=now)
    assert record.extra["photos"] == ["https://cg.example/1.jpg"]


@pytest.mark.parametrize(
    ("changes", "field", "reason_part"),
    [
        ({"taskId": None}, "taskId", "required"),
        ({"taskId": {"id": 1}}, "taskId", "got an object"),
        ({"discoverTime": None}, "discoverTime", "required"),
        ({"discoverTime": "2026-02-30T10:00:00+08:00"}, "discoverTime", "day is out of range"),
        ({"discoverTime": "2026-09-01T23:36:00+25:00"}, "discoverTime", "offset"),
        ({"discoverTime": "01/09/2026 23:36"}, "discoverTime", "not a date-time in ISO 8601"),
        ({"discoverTime": "2026-12-01T00:00:00+08:00"}, "discoverTime", "future"),
        ({"discoverTime": 1788300000000}, "discoverTime", "got a number"),
        ({"deadline": "tomorrow"}, "deadline", "not a date-time"),
        ({"categoryCode": "99999", "categoryName": "其他"}, "categoryCode", "unknown 事项代码 '99999'"),
        ({"categoryCode": None, "categoryName": None}, "categoryCode", "required"),
        ({"categoryCode": "060280"}, "categoryCode", "5-digit"),
        ({"categoryCode": ["06028"]}, "categoryCode", "got a list"),
        ({"location": 121.46}, "location", "expected an object {lng, lat, crs}, got a number"),
        ({"location": [121.46, 31.3]}, "location", "got a list"),
        ({"location": {"lng": 121.46}}, "location.lat", "missing while location.lng"),
        ({"location": {"lng": 0, "lat": 0}}, "location.lat", "outside China"),
        ({"location": {"lng": -121.46, "lat": 31.3}}, "location.lng", "outside China"),
        ({"location": {"lng": 121.46, "lat": "北纬"}}, "location.lat", "not a number"),
        (
            {"location": {"lng": 121.46, "lat": 31.3, "crs": "BD-09"}},
            "location.crs",
            "unknown coordinate system",
        ),
        ({"photos": "https://cg.example/1.jpg"}, "photos", "expected a list of photo URLs"),
        ({"photos": [{"url": "x"}]}, "photos", "photo 1"),
        ({"shopName": ["闻喜火锅店"]}, "shopName", "got a list"),
        ({"stage": "已" * 65}, "stage", "longer than 64"),
        ({"description": "a\x00b"}, "description", "NUL"),
    ],
)
def test_each_rejection_names_its_field(changes: dict[str, Any], field: str, reason_part: str, now: datetime) -> None:
    errors = rejected_fields(case(**changes), now)
    assert field in errors, errors
    assert reason_part in errors[field]


def test_every_bad_field_is_named_at_once(now: datetime) -> None:
    item = case(taskId="", discoverTime="never", categoryCode="00000", categoryName="?", location=[1, 2])
    assert set(rejected_fields(item, now)) == {"taskId", "discoverTime", "categoryCode", "location"}
