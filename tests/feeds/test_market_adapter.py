"""市场监管 adapter: the sample export in both formats, date shapes, tables, and rejections."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from service.feeds.definitions import shipped_adapter
from service.formats.fields import RecordRejected
from service.formats.files import read_rows
from service.vocabulary import CATEGORY_NAMES, SEVERITIES

market = shipped_adapter("market")

SEPT_1_MIDNIGHT_SHANGHAI = datetime(2026, 8, 31, 16, 0, tzinfo=UTC)


def row(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "记录编号": "JA20260901000024",
        "统一社会信用代码": "91310106MA4EY5XU1P",
        "主体名称": "上海闻喜餐饮管理有限公司",
        "经营场所": "闻喜路738号",
        "许可证编号": "JY62566675951238",
        "检查日期": "2026/09/01",
        "检查类型": "双随机抽查",
        "检查事项": "食品安全",
        "检查结果": "不符合",
        "处理措施": "立即停止经营",
        "问题描述": "从业人员未持健康证",
        "整改期限": "2026/09/08",
        "食品安全等级": "B",
        "检查机构": "静安区市场监督管理局临汾路市场监督管理所",
        "检查人员": "杨伟、杨平",
    }
    item.update(changes)
    return item


def rejected_fields(item: dict[str, Any], now: datetime) -> dict[str, str]:
    with pytest.raises(RecordRejected) as caught:
        market.parse(item, now=now)
    return {error.field: error.reason for error in caught.value.errors}


@pytest.mark.parametrize("filename", ["market.csv", "market.xlsx"])
def test_every_sample_row_parses(samples: Path, filename: str, now: datetime) -> None:
    rows = read_rows((samples / filename).read_bytes(), filename, None, required_columns=market.REQUIRED_COLUMNS)
    assert not rows.malformed_rows
    records = [market.parse(values, now=now) for _, values in rows]
    assert len(records) >= 1000
    for record in records:
        assert record.category in CATEGORY_NAMES and record.severity in SEVERITIES
        assert record.is_problem == (record.status_text != "通过")
        assert record.occurred_at.tzinfo is UTC and record.occurred_at.hour == 16  # local midnight
    assert any(not record.is_problem for record in records) and any(record.is_problem for record in records)


def test_csv_and_xlsx_exports_read_the_same(samples: Path, now: datetime) -> None:
    def normalized(filename: str) -> dict[str, tuple[Any, ...]]:
        rows = read_rows((samples / filename).read_bytes(), filename, None)
        return {
            r.source_record_id: (
                r.category,
                r.occurred_at,
                r.is_problem,
                r.severity,
                r.uscc,
                r.name,
                r.address,
            )
            for r in (market.parse(values, now=now) for _, values in rows)
        }

    assert normalized("market.csv") == normalized("market.xlsx")


def test_a_typical_row(now: datetime) -> None:
    record = market.parse(row(), now=now)
    assert record.source_record_id == "JA20260901000024"
    assert record.occurred_at == SEPT_1_MIDNIGHT_SHANGHAI
    assert record.category == "food" and record.is_problem and record.severity == "high"
    assert record.uscc == "91310106MA4EY5XU1P"
    assert record.name == "上海闻喜餐饮管理有限公司" and record.address == "闻喜路738号"
    assert record.status_text == "立即停止经营" and record.description == "从业人员未持健康证"
    assert record.title == "食品安全 · 立即停止经营 · 上海闻喜餐饮管理有限公司"
    assert record.extra["rectify_by"] == "2026-09-08" and record.extra["licence_no"] == "JY62566675951238"


@pytest.mark.parametrize(
    "value",
    [
        "2026/09/01",
        "2026-09-01",
        "2026/9/1",
        " 2026/09/01 ",
        "2026/9/1 0:00",
        "2026年9月1日",
        "２０２６/０９/０１",
        "20260901",
        date(2026, 9, 1),
        datetime(2026, 9, 1),
        datetime(2026, 9, 1, 0, 0, tzinfo=UTC),  # still 1 September in Shanghai
        (date(2026, 9, 1) - date(1899, 12, 30)).days,  # an Excel serial number
        float((date(2026, 9, 1) - date(1899, 12, 30)).days) + 0.5,
    ],
)
def test_inspection_date_shapes(value: object, now: datetime) -> None:
    assert market.parse(row(检查日期=value), now=now).occurred_at == SEPT_1_MIDNIGHT_SHANGHAI


@pytest.mark.parametrize(
    ("item", "measure", "result", "is_problem", "severity"),
    [
        ("食品安全", "通过", "符合", False, "low"),
        ("消防安全", "通过", "基本符合", False, "low"),
        ("价格行为", "限期整改", "基本符合", True, "medium"),
        ("消防安全", "限期整改", "基本符合", True, "medium"),
        ("消防安全", "限期整改", "不符合", True, "high"),
        ("广告发布", "立案调查", "不符合", True, "high"),
        ("证照公示", "立即停止经营", "基本符合", True, "high"),
        ("食品安全", "限期整改", "", True, "medium"),
    ],
)
def test_problem_and_severity(
    item: str, measure: str, result: str, is_problem: bool, severity: str, now: datetime
) -> None:
    record = market.parse(row(检查事项=item, 处理措施=measure, 检查结果=result), now=now)
    assert (record.is_problem, record.severity) == (is_problem, severity)


@pytest.mark.parametrize(
    ("item", "category"),
    [("食品安全", "food"), ("证照公示", "licence"), ("价格行为", "price"), ("计量器具", "price"),
     ("广告发布", "appearance"), ("消防安全", "fire"), (" 消防 安全 ", "fire")],
)  # fmt: skip
def test_inspection_item_table(item: str, category: str, now: datetime) -> None:
    assert market.parse(row(检查事项=item), now=now).category == category


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"统一社会信用代码": ""}, {"uscc": None}),
        ({"统一社会信用代码": None}, {"uscc": None}),
        ({"统一社会信用代码": " 91310106ma4ey5xu1p "}, {"uscc": "91310106ma4ey5xu1p"}),  # as written
        ({"主体名称": "  全家便利店（共和新路店） "}, {"name": "全家便利店（共和新路店）"}),
        ({"经营场所": "闻喜路７３８号"}, {"address": "闻喜路７３８号"}),  # matching normalises addresses
        ({"问题描述": None}, {"description": ""}),
        ({"记录编号": 20260901000024}, {"source_record_id": "20260901000024"}),
        ({"处理措施": "通 过"}, {"is_problem": False, "status_text": "通过"}),
    ],
)
def test_messy_but_readable_values(changes: dict[str, Any], expected: dict[str, Any], now: datetime) -> None:
    record = market.parse(row(**changes), now=now)
    for attribute, value in expected.items():
        assert getattr(record, attribute) == value, attribute


@pytest.mark.parametrize(
    ("changes", "key", "value"),
    [
        ({"许可证编号": 62566675951238}, "licence_no", "62566675951238"),
        ({"许可证编号": 62566675951238.0}, "licence_no", "62566675951238"),
        ({"许可证编号": None}, "licence_no", None),
        ({"整改期限": datetime(2026, 9, 8)}, "rectify_by", "2026-09-08"),
        ({"整改期限": ""}, "rectify_by", None),
        ({"食品安全等级": None}, "food_safety_grade", None),
    ],
)
def test_extra_fields(changes: dict[str, Any], key: str, value: object, now: datetime) -> None:
    assert market.parse(row(**changes), now=now).extra[key] == value


def test_spreadsheet_values_are_stored_as_json(now: datetime) -> None:
    record = market.parse(row(检查日期=datetime(2026, 9, 1), 许可证编号=62566675951238), now=now)
    assert record.payload["检查日期"] == "2026-09-01T00:00:00"
    assert record.payload["许可证编号"] == 62566675951238


@pytest.mark.parametrize(
    ("changes", "field", "reason_part"),
    [
        ({"记录编号": None}, "记录编号", "required"),
        ({"检查日期": ""}, "检查日期", "required"),
        ({"检查日期": "2026/02/30"}, "检查日期", "day is out of range"),
        ({"检查日期": "2026/13/01"}, "检查日期", "month must be in"),
        ({"检查日期": "09/01/2026"}, "检查日期", "not a date in YYYY/MM/DD: '09/01/2026'"),
        ({"检查日期": "2026/12/01"}, "检查日期", "future"),
        ({"检查日期": 12}, "检查日期", "got the number 12"),
        ({"检查日期": True}, "检查日期", "true/false"),
        ({"检查日期": ["2026/09/01"]}, "检查日期", "got a list"),
        ({"整改期限": "下周"}, "整改期限", "not a date"),
        ({"检查事项": "卫生许可"}, "检查事项", "unknown value '卫生许可'; expected one of: 食品安全"),
        ({"检查事项": None}, "检查事项", "required"),
        ({"处理措施": "警告"}, "处理措施", "expected one of: 通过, 限期整改"),
        ({"处理措施": ""}, "处理措施", "required"),
        ({"检查结果": "限期整改"}, "检查结果", "expected one of: 符合"),  # a shifted column
        ({"主体名称": {"name": "x"}}, "主体名称", "got an object"),
        ({"统一社会信用代码": "9" * 33}, "统一社会信用代码", "longer than 32"),
    ],
)
def test_each_rejection_names_its_field(changes: dict[str, Any], field: str, reason_part: str, now: datetime) -> None:
    errors = rejected_fields(row(**changes), now)
    assert field in errors, errors
    assert reason_part in errors[field]


def test_every_bad_field_is_named_at_once(now: datetime) -> None:
    item = row(检查日期="2026/02/30", 检查事项="x", 处理措施=None, 整改期限="soon")
    assert set(rejected_fields(item, now)) == {"检查日期", "检查事项", "处理措施", "整改期限"}
