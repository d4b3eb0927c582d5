"""Reference only (ingest reads shipped definitions):
市场监管 检查记录: one row of the daily export (CSV in GBK, XLSX) or one pushed JSON object
with the same Chinese field names (docs/adapters.md, "Market regulation").

A row whose measure (处理措施) is 通过 is an inspection record for the entity's file, not a
problem. Values from XLSX may be numbers or date cells; text fields take numbers as their digits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from service.feeds.adapters.base import (
    MAX_ADDRESS_LEN,
    MAX_NAME_LEN,
    MAX_USCC_LEN,
    as_record_id,
    make_title,
    normalise_word,
    require_object,
    storable_copy,
)
from service.feeds.adapters.severity import at_least, base_severity
from service.feeds.normalized import NormalizedRecord
from service.formats.fields import (
    FieldReader,
    as_date,
    local_midnight_utc,
    show,
)
from service.vocabulary import Category, Severity

SOURCE = "market"
ID_FIELD = "记录编号"
NAME, LABEL, COLOUR = "市场监管", "市监", "#f5b041"  # how screens show the department

COLUMNS: tuple[str, ...] = (
    "记录编号", "统一社会信用代码", "主体名称", "经营场所", "许可证编号", "检查日期", "检查类型",
    "检查事项", "检查结果", "处理措施", "问题描述", "整改期限", "食品安全等级", "检查机构", "检查人员",
)  # fmt: skip
# Without these a row cannot be understood; the file import checks the header for them.
REQUIRED_COLUMNS: tuple[str, ...] = ("记录编号", "检查日期", "检查事项", "处理措施")

# 检查事项 → unified category
CATEGORY_BY_ITEM: dict[str, Category] = {
    "食品安全": Category.FOOD,
    "证照公示": Category.LICENCE,
    "价格行为": Category.PRICE,
    "计量器具": Category.PRICE,
    "广告发布": Category.APPEARANCE,
    "消防安全": Category.FIRE,
}
Meaning = TypeVar("Meaning")  # what a table maps a department's word to
PASSED = "通过"
# 处理措施 → severity it implies (see severity.py for how the result and category combine)
SEVERITY_BY_MEASURE: dict[str, Severity] = {
    PASSED: Severity.LOW,
    "限期整改": Severity.MEDIUM,
    "立即停止经营": Severity.HIGH,
    "立案调查": Severity.HIGH,
}
RESULTS: tuple[str, ...] = ("符合", "基本符合", "不符合")
FAILED = "不符合"


def parse(item: dict[str, Any], *, now: datetime | None = None) -> NormalizedRecord:
    """One inspection record as a NormalizedRecord; RecordRejected names every bad field."""
    record = require_object(item)
    payload, storage_errors = storable_copy(record)
    reader = FieldReader(record, now=now)
    reader.errors.extend(storage_errors)

    record_id = reader.read(ID_FIELD, as_record_id, required=True)
    inspected_on = reader.read("检查日期", as_date, required=True)
    occurred_at = reader.occurred_at("检查日期", local_midnight_utc(inspected_on) if inspected_on else None)
    item_name, category = _enumerated(reader, "检查事项", CATEGORY_BY_ITEM, required=True)
    measure, measure_severity = _enumerated(reader, "处理措施", SEVERITY_BY_MEASURE, required=True)
    result, _ = _enumerated(reader, "检查结果", {word: word for word in RESULTS}, required=False)
    rectify_by = reader.read("整改期限", as_date)
    uscc = reader.text("统一社会信用代码", max_len=MAX_USCC_LEN)
    name = reader.text("主体名称", max_len=MAX_NAME_LEN)
    address = reader.text("经营场所", max_len=MAX_ADDRESS_LEN)
    problem_text = reader.text("问题描述") or ""
    extra = {
        "inspection_item": item_name,
        "inspection_type": reader.text("检查类型"),
        "result": result,
        "rectify_by": rectify_by.isoformat() if rectify_by else None,
        "licence_no": reader.text("许可证编号"),
        "food_safety_grade": reader.text("食品安全等级"),
        "inspecting_office": reader.text("检查机构"),
        "inspectors": reader.text("检查人员"),
    }

    reader.raise_if_failed(record_id)
    assert record_id and occurred_at and category and measure and measure_severity  # guaranteed by the reader

    severity = measure_severity
    if result == FAILED and measure != PASSED:
        severity = at_least(severity, base_severity(category))
    return NormalizedRecord(
        source=SOURCE,
        source_record_id=record_id,
        payload=payload,
        category=category,
        occurred_at=occurred_at,
        is_problem=measure != PASSED,
        title=make_title(item_name, measure, name or address),
        description=problem_text,
        name=name,
        address=address,
        uscc=uscc,
        severity=severity,
        status_text=measure,
        extra=extra,
    )


def _enumerated(
    reader: FieldReader, field: str, table: Mapping[str, Meaning], *, required: bool
) -> tuple[str | None, Meaning | None]:
    """(the word as the table spells it, its meaning), or (None, None) with an error for an unknown word."""
    errors_before = len(reader.errors)
    word = normalise_word(reader.text(field))
    if len(reader.errors) > errors_before:
        return None, None
    if word is None:
        if required:
            reader.fail(field, "required, but missing or empty")
        return None, None
    spelled = {normalise_word(key): key for key in table}
    if word not in spelled:
        reader.fail(field, f"unknown value {show(word)}; expected one of: {', '.join(table)}")
        return None, None
    key = spelled[word]
    return key, table[key]
