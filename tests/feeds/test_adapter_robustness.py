"""Whatever arrives, an adapter answers with a record or a rejection and a file reader with rows
or a FileFormatError: never another exception (which the API would turn into a 500)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.feeds.definitions import shipped_adapter
from service.feeds.normalized import NormalizedRecord
from service.formats.fields import RecordRejected
from service.formats.files import FileFormatError, read_rows
from service.registry.csv_rows import RegistryRowRejected, parse_registry_row
from tests.support.reference_adapters.market import COLUMNS as MARKET_COLUMNS

city, market = shipped_adapter("city"), shipped_adapter("market")

NOW = datetime(2026, 11, 28, tzinfo=UTC)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
cell_values = (
    st.none()
    | st.text(max_size=20)
    | st.integers(-(10**15), 10**15)
    | st.floats()
    | st.dates(date(1, 1, 1), date(9999, 12, 31))
    | st.datetimes()
)
CITY_FIELDS = ["taskId", "categoryCode", "categoryName", "address", "shopName", "location", "discoverTime", "deadline"]
LOCATIONS = st.fixed_dictionaries(
    {}, optional={"lng": json_values, "lat": json_values, "crs": st.sampled_from(["GCJ-02", "WGS84", "BD09", ""])}
)


def answers(parse: Any, item: Any) -> None:
    try:
        record = parse(item, now=NOW)
    except RecordRejected as rejected:
        assert rejected.errors and all(error.field and error.reason for error in rejected.errors)
    else:
        assert isinstance(record, NormalizedRecord) and record.occurred_at.tzinfo is UTC


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(st.sampled_from(CITY_FIELDS), json_values, max_size=8),
    st.one_of(json_values, LOCATIONS),
)
def test_city_answers_anything(fields: dict[str, Any], location: Any) -> None:
    base = {"taskId": "T1", "categoryCode": "06028", "discoverTime": "2026-09-01T23:36:00+08:00", "location": location}
    answers(city.parse, {**base, **fields})


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(list(MARKET_COLUMNS)), cell_values, max_size=10))
def test_market_answers_any_cells(fields: dict[str, Any]) -> None:
    base = {"记录编号": "JA1", "检查日期": "2026/09/01", "检查事项": "食品安全", "处理措施": "通过"}
    answers(market.parse, {**base, **fields})


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["entity_id", "kind", "name", "lat", "lng", "aliases"]), cell_values))
def test_registry_rows_answer_any_cells(fields: dict[str, Any]) -> None:
    try:
        parse_registry_row({"entity_id": "LF-1", "kind": "shop", "name": "店", **fields})
    except RegistryRowRejected as rejected:
        assert rejected.errors


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300) | st.text(max_size=200).map(lambda text: text.encode("utf-8")))
def test_any_bytes_give_rows_or_a_file_error(data: bytes) -> None:
    for name in ("x.csv", "x.xlsx"):
        try:
            read_rows(data, name, None)
        except FileFormatError as exc:
            assert str(exc)


def test_a_damaged_workbook_gives_a_file_error() -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["记录编号"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    for cut in (len(data) // 3, len(data) // 2, len(data) - 10):
        with pytest.raises(FileFormatError) as error:
            read_rows(data[:cut], "x.xlsx", None)
        assert str(error.value)
