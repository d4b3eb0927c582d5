"""Reading exports: encodings, line numbers, blank and malformed rows, headers, XLSX sheets and cells."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from service.feeds.definitions import shipped_adapter
from service.formats.files import FileFormatError, RowReader, read_rows
from service.registry.csv_rows import REQUIRED_COLUMNS as REGISTRY_COLUMNS
from tests.support.reference_adapters.market import COLUMNS as MARKET_COLUMNS

market = shipped_adapter("market")

HEADER = "记录编号,主体名称,检查日期,检查事项,处理措施"
ROWS = ["JA001,闻喜火锅店,2026/09/01,食品安全,通过", "JA002,鑫达洗衣店,2026/09/02,证照公示,限期整改"]


def csv_text(*lines: str, newline: str = "\n") -> str:
    return newline.join(lines) + newline


def read_csv(text: str, encoding: str = "utf-8", **kwargs: Any) -> RowReader:
    return read_rows(text.encode(encoding), "export.csv", "text/csv", **kwargs)


def xlsx_bytes(sheets: dict[str, list[list[Any]]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- samples -------------------------------------------------------------------------------------


def test_the_gbk_sample_export(samples: Path) -> None:
    rows = read_rows((samples / "market.csv").read_bytes(), "market.csv", "text/csv")
    assert rows.encoding == "gb18030" and rows.file_kind == "csv"
    assert rows.columns == list(MARKET_COLUMNS)
    assert len(rows) >= 1000 and not rows.blank_lines and not rows.malformed_rows
    first_line, first = next(iter(rows))
    assert first_line == 2 and first["记录编号"].startswith("JA")


def test_the_xlsx_sample_export(samples: Path) -> None:
    rows = read_rows((samples / "market.xlsx").read_bytes(), "market.xlsx", None)
    assert rows.sheet_name == "检查记录" and rows.columns == list(MARKET_COLUMNS)
    assert [line for line, _ in rows][:3] == [2, 3, 4]


def test_the_register_sample(samples: Path) -> None:
    rows = read_rows((samples / "registry.csv").read_bytes(), "registry.csv", None, required_columns=REGISTRY_COLUMNS)
    assert rows.encoding == "utf-8-sig" and rows.columns[0] == "entity_id"  # the BOM is not in the name
    assert len(rows) >= 800


# --- encodings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [
        ("gbk", "gb18030"),
        ("gb18030", "gb18030"),
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16", "utf-16"),
    ],
)
def test_encodings(encoding: str, detected: str) -> None:
    rows = read_csv(csv_text(HEADER, *ROWS), encoding)
    assert rows.encoding == detected
    assert [row["主体名称"] for _, row in rows] == ["闻喜火锅店", "鑫达洗衣店"]


def test_a_tab_separated_unicode_text_export() -> None:
    text = csv_text(*(line.replace(",", "\t") for line in (HEADER, *ROWS)))
    rows = read_csv(text, "utf-16")
    assert [row["处理措施"] for _, row in rows] == ["通过", "限期整改"]


def test_gb18030_characters_beyond_gbk() -> None:
    rows = read_csv(csv_text(HEADER, "JA003,𠮷野家,2026/09/01,食品安全,通过"), "gb18030")
    assert next(iter(rows))[1]["主体名称"] == "𠮷野家"


def test_a_utf8_file_with_a_bad_byte_refuses_that_row_only() -> None:
    data = csv_text(HEADER, *ROWS, "JA003,闻喜火锅店,2026/09/03,食品安全,通过").encode("utf-8")
    rows = read_rows(data.replace(b"2026/09/03", b"2026/09/\xff3"), "export.csv", None)
    assert [line for line, _ in rows] == [2, 3] and rows.encoding == "utf-8" and rows.blank_lines == []
    [problem] = rows.malformed_rows
    assert problem.line_number == 4
    assert problem.reason.startswith("line 4 is neither UTF-8 nor GBK/GB18030 text (bytes ff are not valid UTF-8)")


def test_a_gbk_file_with_a_bad_byte_refuses_that_row_only() -> None:
    data = csv_text(HEADER, *ROWS, "JA003,闻喜火锅店,2026/09/03,食品安全,通过").encode("gbk")
    rows = read_rows(data.replace(b"JA001", b"JA\x80\xff1"), "export.csv", None)
    assert [row["记录编号"] for _, row in rows] == ["JA002", "JA003"] and rows.encoding == "gb18030"
    assert [(p.line_number, "not valid GBK/GB18030" in p.reason) for p in rows.malformed_rows] == [(2, True)]


def test_a_file_mostly_in_another_encoding_is_refused_naming_the_line() -> None:
    data = csv_text(HEADER, *ROWS).encode("utf-8").replace("记录编号".encode(), b"\x80\xff")
    with pytest.raises(FileFormatError, match=r"line 1: the file is neither UTF-8 nor GBK/GB18030") as caught:
        read_rows(data, "export.csv", None)
    assert caught.value.line_number == 1


def test_a_bom_file_with_a_bad_byte_refuses_that_row_only() -> None:
    data = b"\xef\xbb\xbf" + csv_text(HEADER, *ROWS).encode("utf-8").replace(b"JA002", b"JA\xc3\x28")
    rows = read_rows(data, "export.csv", None)
    assert [line for line, _ in rows] == [2] and rows.encoding == "utf-8-sig"
    assert [problem.line_number for problem in rows.malformed_rows] == [3]


def test_binary_junk_is_refused() -> None:
    with pytest.raises(FileFormatError, match="a binary file, not CSV or XLSX"):
        read_rows(b"\x00\x81\xff" * 50, "export.csv", None)


# --- structure and line numbers ------------------------------------------------------------------


def test_crlf_a_quoted_multi_line_field_and_a_trailing_empty_line() -> None:
    text = csv_text(
        HEADER,
        'JA001,"闻喜火锅店\r\n（总店）",2026/09/01,食品安全,通过',
        ROWS[1],
        "",
        newline="\r\n",
    )
    rows = read_csv(text)
    assert [(line, row["主体名称"]) for line, row in rows] == [
        (2, "闻喜火锅店\r\n（总店）"),
        (4, "鑫达洗衣店"),
    ]
    assert rows.blank_lines == [] and rows.malformed_rows == []


def test_blank_rows_between_data_are_reported_not_swallowed() -> None:
    rows = read_csv(csv_text(HEADER, ROWS[0], "", ",,,,", "  ", ROWS[1], "", ""))
    assert [line for line, _ in rows] == [2, 6]
    assert rows.blank_lines == [3, 4, 5]


def test_rows_with_values_outside_the_header_are_reported() -> None:
    rows = read_csv(csv_text(HEADER, ROWS[0] + ",多出来的", ROWS[1] + ",,"))
    assert [line for line, _ in rows] == [3]  # trailing empty cells are harmless
    assert [(p.line_number, "field 6" in p.reason) for p in rows.malformed_rows] == [(2, True)]


def test_stray_quotes_inside_a_field_are_read_leniently() -> None:
    rows = read_csv(csv_text(HEADER, 'JA001,"闻喜"火锅店,2026/09/01,食品安全,通过'))
    assert next(iter(rows))[1]["主体名称"] == "闻喜火锅店"


def test_short_rows_leave_missing_cells_empty() -> None:
    rows = read_csv(csv_text(HEADER, "JA001,闻喜火锅店"))
    assert next(iter(rows))[1] == {
        "记录编号": "JA001",
        "主体名称": "闻喜火锅店",
        "检查日期": None,
        "检查事项": None,
        "处理措施": None,
    }


def test_empty_cells_are_none() -> None:
    rows = read_csv(csv_text(HEADER, "JA001,,2026/09/01,食品安全,通过"))
    assert next(iter(rows))[1]["主体名称"] is None


def test_missing_required_columns_are_listed_in_one_error() -> None:
    with pytest.raises(FileFormatError, match="line 1: missing required column") as caught:
        read_csv(csv_text("记录编号,主体名称", "JA001,闻喜火锅店"), required_columns=market.REQUIRED_COLUMNS)
    assert caught.value.missing_columns == ["检查日期", "检查事项", "处理措施"]


def test_header_names_are_cleaned() -> None:
    rows = read_csv(csv_text(" 记录编号 ,主体名称\u3000,检查日期,检查事项,处理措施", ROWS[0]), "utf-8-sig")
    assert rows.columns == HEADER.split(",")


def test_a_duplicate_column_is_refused() -> None:
    with pytest.raises(FileFormatError, match="column '主体名称' appears twice"):
        read_csv(csv_text("记录编号,主体名称,主体名称", "JA001,a,b"))


def test_a_title_row_above_the_header() -> None:
    rows = read_csv(csv_text("检查记录导出 2026-09-01,,,,", HEADER, *ROWS), required_columns=market.REQUIRED_COLUMNS)
    assert rows.header_line == 2 and [line for line, _ in rows] == [3, 4]


def test_a_csv_named_xls_is_read_as_csv() -> None:
    assert len(read_rows(csv_text(HEADER, *ROWS).encode("gbk"), "检查记录.xls", "application/vnd.ms-excel")) == 2


def test_a_header_without_rows() -> None:
    assert len(read_csv(csv_text(HEADER))) == 0


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "x.csv", "empty"),
        (b"\n\n", "x.csv", "no header"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "x.xls", ".xls files are not supported"),
        (b"a,b\n1,2\n", "x.xlsx", "named as an XLSX workbook but is not one"),
        (b"\xef\xbb\xbf <html><table><tr><td>1</td></tr></table></html>", "x.xls", "HTML or XML page"),
        (b"PK\x03\x04" + b"\x00" * 100, "x.xlsx", "not a readable XLSX workbook"),
        (
            b'a,b\n1,2\n"unterminated,2\n3,4\n',
            "x.csv",
            "line 3: a quoted field that starts on this line is never closed",
        ),
        (b"a,b\n1," + b"x" * 200_000 + b"\n", "x.csv", "line 2: not readable as CSV"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "report.pdf", "this is a PDF document, not CSV or XLSX"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.csv", "this is a PNG image, not CSV or XLSX"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "x.csv", "a JPEG image"),
        (b"\x00\x01\x02binary", "x.csv", "a binary file, not CSV or XLSX"),
    ],
)
def test_unreadable_files(data: bytes, filename: str, message: str) -> None:
    with pytest.raises(FileFormatError, match=message):
        read_rows(data, filename, None)


# --- XLSX ----------------------------------------------------------------------------------------


def test_xlsx_prefers_the_inspection_sheet() -> None:
    data = xlsx_bytes({"说明": [["这是说明"]], "检查记录": [HEADER.split(","), ROWS[0].split(",")]})
    rows = read_rows(data, "export.xlsx", None)
    assert rows.sheet_name == "检查记录" and len(rows) == 1


def test_xlsx_falls_back_to_the_first_sheet() -> None:
    data = xlsx_bytes({"Sheet1": [HEADER.split(","), ROWS[0].split(",")], "Sheet2": [["x"]]})
    rows = read_rows(data, "export.xlsx", None)
    assert rows.sheet_name == "Sheet1" and len(rows) == 1


def test_xlsx_cells_keep_their_types_and_parse(now: datetime) -> None:
    data = xlsx_bytes(
        {
            "检查记录": [
                [*HEADER.split(","), "许可证编号", "整改期限"],
                ["JA001", "闻喜火锅店", datetime(2026, 9, 1), "食品安全", "限期整改", 62566675951238, 46273],
                [None, None, None, None, None],
                ["JA002", "鑫达洗衣店", "2026/09/02", "证照公示", "通过", None, None],
            ]
        }
    )
    rows = read_rows(data, "export.xlsx", None)
    assert [line for line, _ in rows] == [2, 4] and rows.blank_lines == [3]
    (_, first), (_, second) = list(rows)
    assert first["检查日期"] == datetime(2026, 9, 1) and first["许可证编号"] == 62566675951238
    record = market.parse(first, now=now)
    assert record.occurred_at == datetime(2026, 8, 31, 16, 0, tzinfo=UTC)
    assert record.extra["licence_no"] == "62566675951238" and record.extra["rectify_by"] == "2026-09-08"
    assert market.parse(second, now=now).is_problem is False


def test_xlsx_line_numbers_count_rows_the_file_leaves_out() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "检查记录"
    for column, name in enumerate(HEADER.split(","), 1):
        sheet.cell(row=3, column=column, value=name)  # rows 1–2 never written
    for column, value in enumerate(ROWS[0].split(","), 1):
        sheet.cell(row=7, column=column, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = read_rows(buffer.getvalue(), "export.xlsx", None)
    assert rows.header_line == 3 and [line for line, _ in rows] == [7] and rows.blank_lines == [4, 5, 6]


def test_xlsx_values_outside_the_header_are_reported() -> None:
    data = xlsx_bytes({"检查记录": [HEADER.split(","), [*ROWS[0].split(","), None, "备注"]]})
    rows = read_rows(data, "export.xlsx", None)
    assert len(rows) == 0 and "column G" in rows.malformed_rows[0].reason


def test_xlsx_missing_columns() -> None:
    data = xlsx_bytes({"检查记录": [["记录编号", "主体名称"], ["JA001", "x"]]})
    with pytest.raises(FileFormatError, match="检查日期, 检查事项, 处理措施"):
        read_rows(data, "export.xlsx", None, required_columns=market.REQUIRED_COLUMNS)


def test_a_workbook_that_expands_too_far_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("service.formats.files.MAX_XLSX_UNCOMPRESSED_BYTES", 1000)
    data = xlsx_bytes({"检查记录": [HEADER.split(","), ROWS[0].split(",")]})
    with pytest.raises(FileFormatError, match="expands to more"):
        read_rows(data, "export.xlsx", None)


def merged_header_workbook() -> bytes:
    """A fire-brigade-style export: a title merged across, then a two-row header with merged cells."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["某区消防救援支队 消防监督检查记录 2026年11月"])
    sheet.append(["检查单号", "单位信息", None, None, "检查时间"])
    sheet.append([None, "单位名称", "地址", "统一社会信用代码", None])
    sheet.append(["XF001", "好运来饭店", "临汾路1号", None, "2026-11-03 14:20"])
    sheet.merge_cells("A1:E1")
    sheet.merge_cells("A2:A3")
    sheet.merge_cells("B2:D2")
    sheet.merge_cells("E2:E3")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_header_with_merged_cells_under_a_title_row() -> None:
    rows = read_rows(merged_header_workbook(), "fire.xlsx", None, required_columns=("检查单号", "检查时间"))
    assert rows.header_line == 2
    assert rows.columns == ["检查单号", "单位名称", "地址", "统一社会信用代码", "检查时间"]
    assert list(rows) == [
        (4, {"检查单号": "XF001", "单位名称": "好运来饭店", "地址": "临汾路1号", "统一社会信用代码": None,
             "检查时间": "2026-11-03 14:20"}),
    ]  # fmt: skip


def test_a_two_row_header_in_csv_reads_like_the_workbook() -> None:
    text = csv_text(
        "消防监督检查记录,,,,",
        "检查单号,单位信息,,,检查时间",
        ",单位名称,地址,统一社会信用代码,",
        "XF001,好运来饭店,临汾路1号,,2026-11-03 14:20",
    )
    rows = read_csv(text, required_columns=("检查单号", "单位名称"))
    assert rows.columns == ["检查单号", "单位名称", "地址", "统一社会信用代码", "检查时间"]
    assert [line for line, _ in rows] == [4]


def test_a_one_row_header_keeps_its_first_data_row() -> None:
    rows = read_csv(csv_text("检查单号,单位名称", "XF001,", "XF002,好运来"), required_columns=("检查单号",))
    assert [row["检查单号"] for _, row in rows] == ["XF001", "XF002"]
