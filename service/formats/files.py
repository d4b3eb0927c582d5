"""Reading department exports (CSV in UTF-8 or GBK, XLSX) into numbered rows, and writing safe CSV.

Line numbers are what a person sees: 1-based, counting the header, in a text editor for CSV
(a quoted multi-line field keeps the number of the line it starts on) and in Excel for XLSX.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
import warnings
import zipfile
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from xml.etree.ElementTree import ParseError

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

# The market regulator's sheet name; other workbooks fall back to their first sheet.
PREFERRED_SHEETS: tuple[str, ...] = ("检查记录",)

# A zip expands; bound what a small upload may unpack to (a 20 MB XLSX is ~200 MB of XML).
MAX_XLSX_UNCOMPRESSED_BYTES = 400 * 1024 * 1024

# How many leading rows may hold a title above the header ("检查记录导出 2026-09-01").
_HEADER_SEARCH_ROWS = 10

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls
# Files people attach by mistake, by their first bytes.
_OTHER_FORMATS = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
)
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"  # BOM and zero-width characters that survive strip()
_FORMULA_STARTS = "=+-@\t\r"


class FileFormatError(ValueError):
    """The file as a whole cannot be read; ``line_number`` says where, when one place is to blame."""

    def __init__(self, message: str, *, line_number: int | None = None, missing_columns: Sequence[str] = ()):
        self.line_number = line_number
        self.missing_columns = list(missing_columns)
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A data row that could not be turned into a dict (e.g. more cells than the header names)."""

    line_number: int
    reason: str


@dataclass(slots=True)
class RowReader:
    """The readable rows of one file, plus every row that was not returned and why.

    Iterate it for ``(line_number, row)``; rows map the header's column names to the cell
    values (str for CSV, str/int/float/datetime/bool for XLSX; None for an empty or missing
    cell in both, so one export reads the same from either format). ``blank_lines`` are fully
    empty rows between data rows, skipped; ``malformed_rows`` are rows refused by the reader.
    Blank rows after the last data row are the end of the data and are not listed.
    """

    file_kind: str  # "csv" or "xlsx"
    columns: list[str]
    header_line: int
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    blank_lines: list[int] = field(default_factory=list)
    malformed_rows: list[RowProblem] = field(default_factory=list)
    encoding: str | None = None  # for CSV: "utf-8", "utf-8-sig", "gb18030", "utf-16"
    sheet_name: str | None = None  # for XLSX

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def read_rows(
    data: bytes,
    filename: str,
    content_type: str | None,
    *,
    required_columns: Collection[str] = (),
    preferred_sheets: Sequence[str] = PREFERRED_SHEETS,
) -> RowReader:
    """Read a CSV or XLSX export into numbered rows; raise FileFormatError when it cannot be read.

    The format is decided by the content (an XLSX is a zip), then by the name and content type.
    """
    if not data:
        raise FileFormatError("the file is empty")
    kind = _detect_kind(data, filename, content_type)
    if kind == "xlsx":
        return _read_xlsx(data, required_columns, preferred_sheets)
    return _read_csv(data, required_columns)


def cell_text(value: object) -> str | None:
    """A file cell or JSON value as stripped text; None when empty.

    Numbers become their digits (XLSX stores 许可证编号-like columns as numbers; 1.0 → "1"),
    dates their ISO form. Raises TypeError for values that are not text-like (lists, dicts, bools).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("expected text, got true/false")
    if isinstance(value, str):
        text = value.strip().strip(_INVISIBLE).strip()
        return text or None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise TypeError("expected text, got a non-finite number")
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    raise TypeError(f"expected text, got {describe_type(value)}")


def describe_type(value: object) -> str:
    """A JSON-flavoured name for a value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, datetime | date):
        return "a date"
    return type(value).__name__


def neutralise_csv_cell(value: object) -> str:
    """A value as a CSV cell that a spreadsheet will not run as a formula.

    Text starting with = + - @ tab or CR (after any leading spaces) gets a leading apostrophe,
    which Excel and LibreOffice show as plain text. Numbers are written as they are.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    text = str(value)
    first = text.lstrip(" ")[:1]  # " =1+1" is still run as a formula by some spreadsheets
    if first and first in _FORMULA_STARTS:
        return "'" + text
    return text


def write_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], *, encoding: str = "utf-8-sig") -> bytes:
    """Rows as CSV bytes (header first, CRLF), every cell neutralised; UTF-8 with BOM opens right in Excel."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise_csv_cell(column) for column in columns])
    for row in rows:
        writer.writerow([neutralise_csv_cell(row.get(column)) for column in columns])
    return buffer.getvalue().encode(encoding)


# --- detection -----------------------------------------------------------------------------------


def _detect_kind(data: bytes, filename: str, content_type: str | None) -> str:
    name = (filename or "").lower()
    ctype = (content_type or "").split(";")[0].strip().lower()
    if data.startswith(_ZIP_MAGIC):
        return "xlsx"
    if data.startswith(_OLE_MAGIC):
        raise FileFormatError("old Excel .xls files are not supported: save the sheet as .xlsx or CSV")
    for magic, what in _OTHER_FORMATS:
        if data.startswith(magic):
            raise FileFormatError(f"this is {what}, not CSV or XLSX")
    if b"\x00" in data[:4096] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileFormatError("this is a binary file, not CSV or XLSX")
    if name.endswith((".xlsx", ".xlsm")) or "spreadsheetml" in ctype:
        raise FileFormatError(f"{filename or 'the file'} is named as an XLSX workbook but is not one")
    if data.lstrip(codecs.BOM_UTF8 + b" \t\r\n")[:1] == b"<":
        # Some systems export an HTML table named .xls; it is neither CSV nor XLSX.
        raise FileFormatError("this is an HTML or XML page, not CSV or XLSX: save the sheet as .xlsx or CSV")
    # Anything else is read as CSV, whatever its name: ".xls" exports are often CSV text.
    return "csv"


# --- CSV -----------------------------------------------------------------------------------------


def _read_csv(data: bytes, required_columns: Collection[str]) -> RowReader:
    text, encoding, bad_lines = _decode_csv_rows(data)
    delimiter = _sniff_delimiter(text)
    try:
        records = _csv_records(text, delimiter, strict=True)
    except _CsvError as exc:
        if "unexpected end of data" in str(exc.error):
            # Lenient parsing would swallow the rest of the file into one field: say where it starts.
            raise FileFormatError(
                f"line {exc.line_number}: a quoted field that starts on this line is never closed",
                line_number=exc.line_number,
            ) from exc
        # Stray quotes inside a field ("q"r) are common in exports; read those leniently.
        try:
            records = _csv_records(text, delimiter, strict=False)
        except _CsvError as lenient:
            raise FileFormatError(
                f"line {lenient.line_number}: not readable as CSV ({lenient.error})",
                line_number=lenient.line_number,
            ) from lenient
    result = _rows_from_table(records, required_columns, file_kind="csv")
    result.encoding = encoding
    if bad_lines:  # each undecodable line is a row refused with its reason; the others are read
        result.blank_lines = [line for line in result.blank_lines if line not in bad_lines]
        result.rows = [(line, row) for line, row in result.rows if line not in bad_lines]
        problems = [RowProblem(line, reason) for line, reason in bad_lines.items() if line > result.header_line]
        result.malformed_rows = sorted([*result.malformed_rows, *problems], key=lambda problem: problem.line_number)
    return result


def _decode_csv_rows(data: bytes) -> tuple[str, str, dict[int, str]]:
    """decode_csv_bytes, except that a file with a few lines in neither encoding is read without them:
    (the text with those lines left empty, the encoding, line number → why it was not read).

    The encoding is the one that read further before failing (UTF-8 when a long valid stretch came
    first). A file whose first line (the header's, usually), or at least half of whose lines, are in
    neither is refused whole as before: it is in another encoding altogether.
    """
    try:
        text, encoding = decode_csv_bytes(data)
        return text, encoding, {}
    except FileFormatError as whole:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise
        failure = whole
    body = data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data
    utf8_start = len(body)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        utf8_start = utf8_error.start
    try:
        body.decode("gb18030")
        gb_start = len(body)
    except UnicodeDecodeError as gb_error:
        gb_start = gb_error.start
    utf8 = data.startswith(codecs.BOM_UTF8) or _looks_like_utf8(body[:utf8_start]) or utf8_start >= gb_start
    codec, label = ("utf-8", "UTF-8") if utf8 else ("gb18030", "GBK/GB18030")
    lines: list[str] = []
    bad: dict[int, str] = {}
    for number, raw in enumerate(body.split(b"\n"), 1):
        try:
            lines.append(raw.decode(codec))
        except UnicodeDecodeError as exc:
            shown = raw[exc.start : min(exc.end, exc.start + 4)].hex(" ")
            bad[number] = (
                f"line {number} is neither UTF-8 nor GBK/GB18030 text (bytes {shown} are not valid {label}); "
                "the other lines were read — save the file as CSV UTF-8 or GBK and send this row again"
            )
            lines.append("")
    if 1 in bad or len(bad) * 2 >= sum(1 for line in lines if line.strip()) + len(bad):
        raise failure
    encoding = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else codec
    return "\n".join(lines), encoding, bad


class _CsvError(Exception):
    def __init__(self, error: csv.Error, line_number: int):
        self.error = error
        self.line_number = line_number
        super().__init__(str(error))


def _csv_records(text: str, delimiter: str, *, strict: bool) -> list[tuple[int, list[str]]]:
    """Each record with the line it starts on (a quoted field may span several lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=strict)
    records: list[tuple[int, list[str]]] = []
    lines_read = 0
    try:
        for cells in reader:
            records.append((lines_read + 1, cells))
            lines_read = reader.line_num
    except csv.Error as exc:
        raise _CsvError(exc, lines_read + 1) from exc
    return records


def decode_csv_bytes(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (with or without BOM) strictly, else GB18030 (a superset of GBK).

    A file that is neither raises FileFormatError naming the line where decoding fails.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text"
        return _decode_or_fail(data, "utf-16", "UTF-16"), "utf-16"
    if data.startswith(codecs.BOM_UTF8):
        return _decode_or_fail(data[len(codecs.BOM_UTF8) :], "utf-8", "UTF-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        # A long valid UTF-8 stretch before the failure means a UTF-8 file with a bad byte:
        # GB18030 would "succeed" and turn it into nonsense, so name the line instead.
        if _looks_like_utf8(data[: utf8_error.start]):
            raise _decode_failure(data, utf8_error, "UTF-8") from utf8_error
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError as gb_error:
            # Blame the encoding that got further: it is the one the file was meant to be in.
            worst, label = (utf8_error, "UTF-8") if utf8_error.start > gb_error.start else (gb_error, "GBK/GB18030")
            raise _decode_failure(data, worst, label) from gb_error


def _decode_or_fail(data: bytes, codec: str, label: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise _decode_failure(data, exc, label) from exc


def _looks_like_utf8(prefix: bytes, enough: int = 8) -> bool:
    # GBK text almost never forms more than a couple of valid multi-byte UTF-8 characters by chance.
    return sum(1 for char in prefix.decode("utf-8", errors="ignore") if ord(char) >= 0x80) >= enough


def _decode_failure(data: bytes, error: UnicodeDecodeError, label: str) -> FileFormatError:
    # Count line breaks in the decoded prefix: in UTF-16 a 0x0A byte is not always a newline.
    line_number = data[: error.start].decode(error.encoding, errors="replace").count("\n") + 1
    bad = data[error.start : min(error.end, error.start + 4)]
    return FileFormatError(
        f"line {line_number}: the file is neither UTF-8 nor GBK/GB18030 text "
        f"(bytes {bad.hex(' ')} are not valid {label}); save it as CSV UTF-8 or GBK",
        line_number=line_number,
    )


def _sniff_delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    if "," not in header and "\t" in header:
        return "\t"
    return ","


# --- XLSX ----------------------------------------------------------------------------------------


def _read_xlsx(data: bytes, required_columns: Collection[str], preferred_sheets: Sequence[str]) -> RowReader:
    _check_zip_size(data)
    with warnings.catch_warnings():
        # openpyxl warns about Excel features it drops (data validation, styles); the data is intact.
        warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
        return _read_workbook(data, required_columns, preferred_sheets)


def _read_workbook(data: bytes, required_columns: Collection[str], preferred_sheets: Sequence[str]) -> RowReader:
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (
        InvalidFileException,
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        TypeError,
        OSError,
        ParseError,
    ) as exc:
        raise FileFormatError(f"not a readable XLSX workbook ({exc.__class__.__name__})") from exc
    try:
        if not workbook.sheetnames:
            raise FileFormatError("the workbook has no sheets")
        sheet_name = next((name for name in preferred_sheets if name in workbook.sheetnames), workbook.sheetnames[0])
        sheet = workbook[sheet_name]
        sheet.reset_dimensions()  # some writers record wrong dimensions; read what is really there
        try:
            records = [(number, list(values)) for number, values in enumerate(sheet.iter_rows(values_only=True), 1)]
        except (KeyError, ValueError, TypeError, ParseError) as exc:
            raise FileFormatError(f"sheet {sheet_name}: not readable ({exc.__class__.__name__})") from exc
    finally:
        workbook.close()
    result = _rows_from_table(records, required_columns, file_kind="xlsx")
    result.sheet_name = sheet_name
    return result


def _check_zip_size(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise FileFormatError("not a readable XLSX workbook (damaged zip)") from exc
    if expanded > MAX_XLSX_UNCOMPRESSED_BYTES:
        raise FileFormatError("the workbook expands to more than we accept; split it into smaller files")


# --- shared: header and rows ---------------------------------------------------------------------


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip().strip(_INVISIBLE).strip())


def _header_name(value: object) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    # Full-width or oddly spaced headers ("记录编号 ") are the same column.
    return unicodedata.normalize("NFKC", text).strip().strip(_INVISIBLE).strip()


def _column_label(file_kind: str, index: int) -> str:
    return f"column {get_column_letter(index + 1)}" if file_kind == "xlsx" else f"field {index + 1}"


def _find_header(records: list[tuple[int, list[Any]]], required: Collection[str]) -> tuple[int, list[str], int]:
    """The header: (index in ``records`` of its last row, its column names, how many rows it spans).

    Without required columns it is the first non-blank row. With them, it is the first of the
    leading rows (a title row may sit above) that holds them all, or the first two rows that hold
    them together: a header with merged cells, where a name merged over two rows stands in the
    upper one only and a group name ("单位信息") spans the names below it.
    """
    non_blank = [i for i, (_, cells) in enumerate(records) if not all(_is_blank(c) for c in cells)]
    if not non_blank:
        raise FileFormatError("the file has no header row and no data")
    if required:
        for i in non_blank[:_HEADER_SEARCH_ROWS]:
            names = [_header_name(c) for c in records[i][1]]
            below = records[i + 1][1] if i + 1 < len(records) else []
            if all(column in names for column in required):
                # A data row always carries the required columns; blanks under all of them mean the
                # row below is the header's second row (names merged down, a group split up).
                continues = not all(_is_blank(c) for c in below) and all(
                    i_col >= len(below) or _is_blank(below[i_col])
                    for i_col, name in enumerate(names)
                    if name in required
                )
                if not continues:
                    return i, names, 1
                return i + 1, _two_row_header(names, [_header_name(c) for c in below]), 2
            # A title row (one cell, merged across) never is the upper row of a header.
            if below and sum(1 for name in names if name) > 1:
                combined = _two_row_header(names, [_header_name(c) for c in below])
                if all(column in combined for column in required):
                    return i + 1, combined, 2
    first = non_blank[0]
    return first, [_header_name(c) for c in records[first][1]], 1


def _two_row_header(upper: list[str], lower: list[str]) -> list[str]:
    """Each column's name from the lower row, or from the upper row where the lower cell is empty."""
    width = max(len(upper), len(lower))
    return [(lower[i] if i < len(lower) else "") or (upper[i] if i < len(upper) else "") for i in range(width)]


def _rows_from_table(
    records: list[tuple[int, list[Any]]], required_columns: Collection[str], *, file_kind: str
) -> RowReader:
    header_index, columns, header_rows = _find_header(records, required_columns)
    header_line = records[header_index - header_rows + 1][0]
    _check_header(columns, required_columns, header_line, file_kind)

    result = RowReader(file_kind=file_kind, columns=[c for c in columns if c], header_line=header_line)
    pending_blank: list[int] = []
    for line_number, cells in records[header_index + 1 :]:
        if all(_is_blank(cell) for cell in cells):
            pending_blank.append(line_number)
            continue
        result.blank_lines.extend(pending_blank)  # blank rows count only when data follows them
        pending_blank = []
        stray = [i for i, cell in enumerate(cells) if not _is_blank(cell) and (i >= len(columns) or not columns[i])]
        if stray:
            where = ", ".join(_column_label(file_kind, i) for i in stray[:5])
            result.malformed_rows.append(
                RowProblem(line_number, f"values in {where}, which has no column name in the header")
            )
            continue
        row: dict[str, Any] = {}
        for i, name in enumerate(columns):
            if name:
                cell = cells[i] if i < len(cells) else None
                row[name] = None if cell == "" else cell  # an empty cell is None in CSV as in XLSX
        result.rows.append((line_number, row))
    return result


def _check_header(columns: list[str], required: Collection[str], header_line: int, file_kind: str) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(columns):
        if not name:
            continue
        if name in seen:
            raise FileFormatError(
                f"line {header_line}: column {name!r} appears twice "
                f"({_column_label(file_kind, seen[name])} and {_column_label(file_kind, i)})",
                line_number=header_line,
            )
        seen[name] = i
    missing = [column for column in required if column not in seen]
    if missing:
        raise FileFormatError(
            f"line {header_line}: missing required column(s): {', '.join(missing)}",
            line_number=header_line,
            missing_columns=missing,
        )
