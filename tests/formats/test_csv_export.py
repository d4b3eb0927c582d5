"""Exported CSV: cells a spreadsheet would run as formulas are neutralised; the file reads back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from service.formats.files import neutralise_csv_cell, read_rows, write_csv


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+8613812345678", "'+8613812345678"),
        ("-2", "'-2"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=cmd", "'\t=cmd"),
        ("\rX", "'\rX"),
        ('  =HYPERLINK("http://x")', '\'  =HYPERLINK("http://x")'),
        ("闻喜火锅店", "闻喜火锅店"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (-2, "-2"),  # a number is not a formula
        (1.5, "1.5"),
        (True, "true"),
        (datetime(2026, 9, 1, 8, 0, tzinfo=UTC), "2026-09-01T08:00:00+00:00"),
    ],
)
def test_neutralise_csv_cell(value: object, cell: str) -> None:
    assert neutralise_csv_cell(value) == cell


def test_write_csv_neutralises_and_reads_back() -> None:
    rows: list[dict[str, Any]] = [
        {"name": '=HYPERLINK("http://evil","点我")', "address": "闻喜路738号", "count": 3},
        {"name": "鑫达洗衣店", "address": "汾西路295号, 一层\n后门", "count": None},
    ]
    data = write_csv(rows, ["name", "address", "count"])
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    read = read_rows(data, "export.csv", "text/csv")
    assert [row for _, row in read] == [
        {"name": '\'=HYPERLINK("http://evil","点我")', "address": "闻喜路738号", "count": "3"},
        {"name": "鑫达洗衣店", "address": "汾西路295号, 一层\n后门", "count": None},
    ]
    assert [line for line, _ in read] == [2, 3]


def test_write_csv_in_gbk_for_old_spreadsheets() -> None:
    data = write_csv([{"name": "闻喜火锅店"}], ["name"], encoding="gb18030")
    assert read_rows(data, "export.csv", None).encoding == "gb18030"
