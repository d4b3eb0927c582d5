"""Feed definitions: the format's checks, named by key path; the generic adapter reads as the Python ones do."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.feeds.definitions import (
    DefinitionAdapter,
    DefinitionError,
    load_definition,
    parse_definition,
    shipped_adapter,
    shipped_definitions,
)
from service.formats.fields import RecordRejected
from service.formats.files import read_rows
from service.matching.geo import haversine_m, wgs84_to_bd09
from tests.support.reference_adapters import city as city_reference
from tests.support.reference_adapters import market as market_reference
from tests.support.reference_adapters import police

SHIPPED_FOLDER = Path(__file__).resolve().parents[2] / "service" / "feeds" / "definitions" / "shipped"
POLICE = DefinitionAdapter(load_definition(SHIPPED_FOLDER / "police.toml"))
# Police, city and market as ingest reads them, checked against the Python adapters they replaced
# (tests/support/reference_adapters).
CITY, MARKET = shipped_adapter("city"), shipped_adapter("market")
SHIPPED = {definition.source: DefinitionAdapter(definition) for definition in shipped_definitions()}

MINIMAL = """
source = "hotline"
name = "12345热线"
label = "热线"
colour = "#845EF7"

[transport]
kinds = ["json"]

[record]
id = "gdbh"

[fields.time]
field = "ldsj"

[category]
field = "gdlx"
map = { "噪音扰民" = "noise", "消防隐患" = { category = "fire", label = "消防隐患", severity = "high" } }
"""


def outcome(adapter: Any, item: Any, now: datetime) -> Any:
    try:
        return adapter.parse(item, now=now)
    except RecordRejected as rejected:
        return ("rejected", rejected.source_record_id, rejected.errors)


def errors_of(adapter: Any, item: dict[str, Any], now: datetime) -> dict[str, str]:
    with pytest.raises(RecordRejected) as caught:
        adapter.parse(item, now=now)
    return {error.field: error.reason for error in caught.value.errors}


# --- the format ------------------------------------------------------------------------------------


def test_a_minimal_definition() -> None:
    definition = parse_definition(MINIMAL)
    assert definition.colour == "#845ef7"
    assert definition.required_columns() == ("gdbh", "ldsj", "gdlx")
    record = DefinitionAdapter(definition).parse(
        {"gdbh": "GD1", "ldsj": "2026-11-03 10:00", "gdlx": "消防隐患"}, now=datetime(2026, 11, 28, tzinfo=UTC)
    )
    assert (record.category, record.severity, record.title, record.is_problem) == ("fire", "high", "消防隐患", True)


def test_three_mistakes_are_named_by_their_keys() -> None:
    text = MINIMAL.replace('"噪音扰民" = "noise"', '"噪音扰民" = "foo"').replace('colour = "#845EF7"', 'colour = "red"')
    text = text.replace('[fields.time]\nfield = "ldsj"', '[fields.time]\nfield = "ldsj"\nformats = ["%d.%m"]')
    with pytest.raises(DefinitionError) as caught:
        parse_definition(text, "hotline.toml")
    problems = caught.value.problems
    assert "colour: 'red' is not a colour as #rrggbb" in problems
    assert any(p.startswith("category.map.噪音扰民: unknown category 'foo'") for p in problems)
    assert any(p.startswith("fields.time.formats: format '%d.%m' needs %Y, %m and %d") for p in problems)
    assert len(problems) == 3
    assert caught.value.report().startswith("hotline.toml: 3 mistakes in the definition")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("[record]", "[record]\nidd = 'x'"), "record.idd: unknown key (misspelt, or not part of the format)"),
        (('id = "gdbh"', 'idd = "gdbh"'), "record.idd: unknown key: did you mean 'id'? (record.id is required)"),
        (('source = "hotline"', 'source = "Hotline!"'), "source: 'Hotline!': use 1–32 lowercase letters"),
        (('kinds = ["json"]', 'kinds = ["pdf"]'), "transport.kinds.0: 'pdf': input should be 'json', 'csv' or 'xlsx'"),
        (('id = "gdbh"', ""), "record.id: required, but missing"),
        (('field = "ldsj"', 'field = "ldsj"\ntimezone = "Mars/Olympus"'), "fields.time.timezone: unknown time zone"),
        (('[category]\nfield = "gdlx"', '[category]\nfixed = "fire"\nfield = "gdlx"'), "category: say exactly one of"),
        (('label = "热线"', 'label = "热线"\nhooks = ["nope"]'), "hooks: unknown hook 'nope'"),
        (('source = "hotline"', 'source = "hotline'), "(definition): not valid TOML"),
    ],
)
def test_each_mistake_says_where_and_what(change: tuple[str, str], expected: str) -> None:
    text = MINIMAL.replace(*change)
    with pytest.raises(DefinitionError) as caught:
        parse_definition(text, "(definition)")
    assert any(problem.startswith(expected) for problem in caught.value.problems) or str(caught.value).startswith(
        expected
    ), caught.value.problems


def test_the_shipped_definitions_load() -> None:
    assert list(SHIPPED) == ["police", "market", "city", "fire", "health", "hotline"]
    fire, health = SHIPPED["fire"].definition, SHIPPED["health"].definition
    assert (fire.name, fire.label, health.name, health.label) == ("消防救援", "消防", "卫生健康", "卫健")


# --- the same records as the Python adapter --------------------------------------------------------


def test_the_police_definition_reads_every_sample_as_the_adapter_does(samples: Path, now: datetime) -> None:
    lines = [line for line in (samples / "police.jsonl").read_text("utf-8").splitlines() if line.strip()]
    for line in lines:
        item = json.loads(line)
        assert outcome(POLICE, item, now) == outcome(police, item, now), item["jjdbh"]


MESSY_VALUES = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(-10, 10_000),
    st.floats(allow_nan=True),
    st.sampled_from(["0401", "0999", "402", "火灾", " 0202 ", "2026-09-02T06:20:00+08:00", "13812345678", ""]),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["bjlbdm", "bjlb", "bjsj", "jd", "wd", "dwmc", "afdz", "bjrdh", "jjdbh"]), MESSY_VALUES
    )
)
def test_the_police_definition_agrees_on_messy_records(changes: dict[str, Any]) -> None:
    now = datetime(2026, 11, 28, tzinfo=UTC)
    item = {
        "jjdbh": "31010620260902000216", "bjsj": "2026-09-02 06:20:00", "bjlbdm": "0402", "bjlb": "火灾隐患",
        "afdz": "闻喜路237号", "dwmc": "沙县小吃", "bjnr": "私拉电线 13812345678", "bjrdh": "13812345678",
        "jd": 121.449099, "wd": 31.306478,
    }  # fmt: skip
    item.update(changes)
    expected, got = outcome(police, item, now), outcome(POLICE, item, now)
    if isinstance(expected, tuple):  # the same fields refused (the wording may differ)
        assert isinstance(got, tuple) and {e.field for e in got[2]} == {e.field for e in expected[2]}
    else:
        assert got == expected


# --- fire and health -------------------------------------------------------------------------------


def fire_row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "检查单号": "XF2026110001", "单位名称": "好运来饭店", "地址": "临汾路1号", "统一社会信用代码": None,
        "检查时间": "2026-11-03 14:20", "隐患描述": "灭火器过期", "隐患等级": "重大", "整改期限": "2026/11/20",
        "复查结果": "未复查",
    }  # fmt: skip
    row.update(changes)
    return row


def test_a_fire_inspection(now: datetime) -> None:
    record = SHIPPED["fire"].parse(fire_row(), now=now)
    assert (record.category, record.severity, record.is_problem, record.status_text) == ("fire", "high", True, "未复查")
    assert record.occurred_at == datetime(2026, 11, 3, 6, 20, tzinfo=UTC)
    assert record.title == "消防安全 · 重大 · 好运来饭店"
    assert record.uscc is None and record.extra["deadline"] == "2026-11-19T16:00:00+00:00"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"检查时间": "2026/11/3"}, ("2026-11-02T16:00:00+00:00", "high", True)),
        ({"隐患等级": "一般"}, ("2026-11-03T06:20:00+00:00", "medium", True)),
        ({"隐患等级": "无"}, ("2026-11-03T06:20:00+00:00", "low", False)),
        ({"隐患等级": " 无 "}, ("2026-11-03T06:20:00+00:00", "low", False)),
    ],
)
def test_fire_times_levels_and_what_is_not_a_problem(
    changes: dict[str, Any], expected: tuple[str, str, bool], now: datetime
) -> None:
    record = SHIPPED["fire"].parse(fire_row(**changes), now=now)
    assert (record.occurred_at.isoformat(), record.severity, record.is_problem) == expected


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"检查时间": "3/11/2026"}, "检查时间", "not a time in YYYY-MM-DD HH:mm or YYYY/MM/DD: '3/11/2026'"),
        ({"检查时间": "2026-13-03 14:20"}, "检查时间", "not a time in"),
        ({"隐患等级": "很大"}, "隐患等级", "unknown value '很大'; expected one of: 一般, 重大, 无"),
        ({"复查结果": "不知道"}, "复查结果", "unknown value '不知道'; expected one of: 未复查, 已整改, 未整改"),
        ({"备注": "多出来的一列"}, "备注", "unknown column (a shifted or foreign export?)"),
        ({"检查单号": None}, "检查单号", "required, but missing or empty"),
    ],
)
def test_fire_rejections_name_the_field(changes: dict[str, Any], field: str, reason: str, now: datetime) -> None:
    assert errors_of(SHIPPED["fire"], fire_row(**changes), now)[field].startswith(reason)


def test_an_unknown_column_left_empty_is_fine(now: datetime) -> None:
    assert SHIPPED["fire"].parse(fire_row(备注=None), now=now).source_record_id == "XF2026110001"


def health_item(**changes: Any) -> dict[str, Any]:
    lng, lat = wgs84_to_bd09(121.455159, 31.297083)
    item: dict[str, Any] = {
        "监督编号": "WS2026110001", "机构名称": "临汾路小学食堂", "机构类别": "学校食堂", "地址": "岭南路583号",
        "经度": lng, "纬度": lat, "监督日期": "2026-11-03", "监督结果": "不合格", "问题描述": "留样不足",
    }  # fmt: skip
    item.update(changes)
    return item


def test_a_health_inspection_in_baidu_coordinates(now: datetime) -> None:
    record = SHIPPED["health"].parse(health_item(), now=now)
    assert (record.category, record.severity, record.is_problem) == ("food", "medium", True)
    assert record.lat is not None and record.lng is not None
    assert haversine_m(31.297083, 121.455159, record.lat, record.lng) < 1.0  # back in WGS-84
    assert record.occurred_at == datetime(2026, 11, 2, 16, 0, tzinfo=UTC)
    assert record.extra == {"category_code": "学校食堂", "institution_type": "学校食堂", "result": "不合格"}


@pytest.mark.parametrize(
    ("changes", "category", "severity", "problem"),
    [
        ({"机构类别": "诊所"}, "licence", "medium", True),
        ({"机构类别": "医院", "监督结果": "责令整改"}, "licence", "high", True),
        ({"监督结果": "合格"}, "food", "low", False),
    ],
)
def test_health_categories_and_results(
    changes: dict[str, Any], category: str, severity: str, problem: bool, now: datetime
) -> None:
    record = SHIPPED["health"].parse(health_item(**changes), now=now)
    assert (record.category, record.severity, record.is_problem) == (category, severity, problem)


def test_a_category_outside_the_table_is_refused_naming_the_choices(now: datetime) -> None:
    reason = errors_of(SHIPPED["health"], health_item(机构类别="美容院"), now)["机构类别"]
    assert reason.startswith("unknown value '美容院'; expected one of: 学校食堂, 单位食堂, 医院")


def test_personal_fields_are_masked_whole_or_as_a_phone(now: datetime) -> None:
    text = MINIMAL.replace('colour = "#845EF7"', 'colour = "#845EF7"\n') + (
        '\n[personal]\nlxdh = "phone"\nlxr = "whole"\nsfzh = "drop"\n[fields]\ndescription = "nr"\n'
    )
    adapter = DefinitionAdapter(parse_definition(text))
    record = adapter.parse(
        {"gdbh": "GD1", "ldsj": "2026-11-03 10:00", "gdlx": "噪音扰民", "lxdh": "139 0013 9000", "lxr": "王先生",
         "sfzh": "310101199001011234", "nr": "请回电 13900139000"},
        now=now,
    )  # fmt: skip
    assert record.payload["lxdh"] == "139****9000" and record.payload["lxr"] == "****"
    assert "sfzh" not in record.payload
    assert "13900139000" not in json.dumps(record.payload, ensure_ascii=False) + record.description


def test_the_city_definition_reads_every_sample_as_the_adapter_did(samples: Path, now: datetime) -> None:
    lines = [line for line in (samples / "city.jsonl").read_text("utf-8").splitlines() if line.strip()]
    for line in lines:
        item = json.loads(line)
        assert outcome(CITY, item, now) == outcome(city_reference, item, now), item["taskId"]


LOCATIONS = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"lng": st.one_of(st.floats(120, 123), st.text(max_size=4)), "lat": st.floats(30, 32)},
        optional={"crs": st.sampled_from(["GCJ-02", "wgs84", "CGCS2000", "BD-09", "", None, 3])},
    ),
    MESSY_VALUES,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["categoryCode", "categoryName", "discoverTime", "deadline", "photos", "stage", "taskId"]),
        st.one_of(MESSY_VALUES, st.lists(st.sampled_from(["https://a/1.jpg", " ", 3]), max_size=3)),
    ),
    LOCATIONS,
)
def test_the_city_definition_agrees_on_messy_records(changes: dict[str, Any], location: Any) -> None:
    now = datetime(2026, 11, 28, tzinfo=UTC)
    item = {
        "taskId": "2609G0000269", "categoryCode": "06028", "categoryName": "噪声扰民", "address": "闻喜路738号",
        "shopName": "闻喜火锅店", "discoverTime": "2026-09-01T23:36:00+08:00", "photos": [], "location": location,
    }  # fmt: skip
    item.update(changes)
    expected, got = outcome(city_reference, item, now), outcome(CITY, item, now)
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and {e.field for e in got[2]} == {e.field for e in expected[2]}
    else:
        assert got == expected


@pytest.mark.parametrize("name", ["market.csv", "market.xlsx"])
def test_the_market_definition_reads_every_sample_as_the_adapter_did(name: str, samples: Path, now: datetime) -> None:
    data = (samples / name).read_bytes()
    rows = read_rows(data, name, None, required_columns=market_reference.REQUIRED_COLUMNS)
    assert len(rows) >= 1000
    for line, row in rows:
        assert outcome(MARKET, row, now) == outcome(market_reference, row, now), line


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["检查日期", "检查事项", "检查结果", "处理措施", "整改期限", "主体名称", "记录编号"]),
        st.one_of(MESSY_VALUES, st.sampled_from(["通过", "不符合", "基本符合", "消防安全", "限期 整改", "2026/9/1"])),
    )
)
def test_the_market_definition_agrees_on_messy_records(changes: dict[str, Any]) -> None:
    now = datetime(2026, 11, 28, tzinfo=UTC)
    item = {
        "记录编号": "JA1", "主体名称": "沙县小吃", "经营场所": "闻喜路237号", "检查日期": "2026/09/01",
        "检查事项": "消防安全", "检查结果": "不符合", "处理措施": "限期整改", "整改期限": "2026/09/08",
    }  # fmt: skip
    item.update(changes)
    expected, got = outcome(market_reference, item, now), outcome(MARKET, item, now)
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and {e.field for e in got[2]} == {e.field for e in expected[2]}
    else:
        assert got == expected
