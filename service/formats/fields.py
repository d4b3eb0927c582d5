"""Reading named fields of one record (a JSON object or a file row) while collecting every problem.

Converters (``as_text``, ``as_number``, ``as_code``, ``as_datetime``, ``as_date``) take one raw
value and return the clean value, None for an empty one, or raise ``FieldProblem`` with a reason
a department clerk can act on. ``FieldReader`` applies them to named fields and remembers each
failure as a ``FieldError``, so that one rejection (``RecordRejected``) names every bad field at
once. Nothing here knows a department: the feeds' adapters and the register's rows build on it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, TypeVar

from service.formats.files import cell_text, describe_type
from service.kit.clock import SHANGHAI  # every time without a zone is local time
from service.matching.geo import CHINA_LAT, CHINA_LNG

T = TypeVar("T")

# A record may be stamped a little ahead (clocks drift), not days ahead.
MAX_AHEAD = timedelta(days=1)
EARLIEST_YEAR, LATEST_YEAR = 1990, 2100  # outside these a date is a typo (and 0001 would overflow UTC)


@dataclass(frozen=True, slots=True)
class FieldError:
    """Why one field of one record was refused: the field's name as the sender wrote it, and the reason."""

    field: str
    reason: str


class RecordRejected(Exception):
    """A record that cannot be accepted; ``errors`` name each field and the reason.

    ``source_record_id`` is the record's own id as the sender gave it, when it could be read.
    """

    def __init__(self, source_record_id: str | None, errors: list[FieldError]):
        self.source_record_id = source_record_id
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))


class FieldProblem(ValueError):
    """One value is unusable; ``reason`` says why, for the department."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def show(value: object, limit: int = 60) -> str:
    """A value quoted for an error message, cut short when long."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- converters ------------------------------------------------------------------------------------


def as_text(value: object, max_len: int | None = None) -> str | None:
    """Stripped text (numbers become their digits); None when empty."""
    try:
        text = cell_text(value)
    except TypeError as exc:
        raise FieldProblem(str(exc)) from None
    if text is not None and max_len is not None and len(text) > max_len:
        raise FieldProblem(f"longer than {max_len} characters ({len(text)})")
    return text


def as_code(value: object, digits: int) -> str | None:
    """A fixed-width numeric code ("0402"); a number that lost its leading zeros is padded back, as an
    integer (JSON, XLSX) or as text ("402": a CSV saved by a spreadsheet drops them)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**digits:
        return str(value).zfill(digits)
    text = as_text(value)
    if text is None:
        return None
    text = unicodedata.normalize("NFKC", text)
    if text.isascii() and text.isdigit() and len(text) < digits:
        text = text.zfill(digits)
    if not (text.isascii() and text.isdigit() and len(text) == digits):
        raise FieldProblem(f"not a {digits}-digit code: {show(text)}")
    return text


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def as_number(value: object) -> float | None:
    """A finite number; numeric text ("121.45") is accepted, true/false is not."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise FieldProblem("expected a number, got true/false")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        if not text:
            return None
        if not _NUMBER.fullmatch(text):
            raise FieldProblem(f"not a number: {show(value)}")
        number = float(text)
    else:
        raise FieldProblem(f"expected a number, got {describe_type(value)}")
    if not math.isfinite(number):
        raise FieldProblem(f"not a finite number: {show(value)}")
    return number


_DATETIME = re.compile(
    r"(?P<y>\d{4})[-/](?P<mo>\d{1,2})[-/](?P<d>\d{1,2})(?:T|\s+)"
    r"(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?",
    re.IGNORECASE,
)


def as_datetime(value: object, expected: str) -> datetime | None:
    """An aware UTC time from local (Asia/Shanghai) or offset-carrying text.

    Accepts ``YYYY-MM-DD HH:MM[:SS]``, ``/`` for ``-``, ``T`` for the space, fractions, ``Z`` or
    ``±HH:MM``. ``expected`` is the format named in the error message.
    """
    if value is None:
        return None
    if isinstance(value, datetime):  # from XLSX
        return _aware_utc(value)
    if not isinstance(value, str):
        raise FieldProblem(f"expected a date-time in {expected}, got {describe_type(value)}")
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return None
    match = _DATETIME.fullmatch(text)
    if not match:
        raise FieldProblem(f"not a date-time in {expected}: {show(value)}")
    fraction = (match["frac"] or "0")[:6].ljust(6, "0")
    try:
        local = datetime(
            int(match["y"]), int(match["mo"]), int(match["d"]),
            int(match["h"]), int(match["mi"]), int(match["s"] or 0), int(fraction),
        )  # fmt: skip
    except ValueError as exc:
        raise FieldProblem(f"not a real date-time ({exc}): {show(value)}") from None
    _check_year(local.year, value)
    zone = _offset(match["tz"], value) if match["tz"] else SHANGHAI
    return local.replace(tzinfo=zone).astimezone(UTC)


def _offset(text: str, value: object) -> timezone:
    if text.upper() == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 14 or minutes > 59:
        raise FieldProblem(f"not a real UTC offset {text!r}: {show(value)}")
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _aware_utc(moment: datetime) -> datetime:
    _check_year(moment.year, moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(UTC)


def _check_year(year: int, value: object) -> None:
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise FieldProblem(f"year {year} is not plausible (expected {EARLIEST_YEAR}–{LATEST_YEAR}): {show(value)}")


_DATE = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<mo>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:(?:T|\s+)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"  # a spreadsheet's "2026/9/1 0:00" is still that date
)
_COMPACT_DATE = re.compile(r"(?P<y>\d{4})(?P<mo>\d{2})(?P<d>\d{2})")
# Excel's 1900 date system counts days from 1899-12-30 (the 1900 leap-year bug folded in).
_EXCEL_EPOCH = date(1899, 12, 30)


def as_date(value: object, expected: str = "YYYY/MM/DD") -> date | None:
    """A calendar date from text (YYYY/MM/DD, YYYY-MM-DD, YYYY/M/D, 2026年9月1日), a spreadsheet
    date or datetime cell, or an Excel serial day number."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise FieldProblem(f"expected a date in {expected}, got true/false")
    if isinstance(value, datetime):
        _check_year(value.year, value)
        return (value.astimezone(SHANGHAI) if value.tzinfo else value).date()
    if isinstance(value, date):
        _check_year(value.year, value)
        return value
    if isinstance(value, int | float):
        return _excel_serial_date(value, expected)
    if not isinstance(value, str):
        raise FieldProblem(f"expected a date in {expected}, got {describe_type(value)}")
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return None
    match = _DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if not match:
        raise FieldProblem(f"not a date in {expected}: {show(value)}")
    try:
        parsed = date(int(match["y"]), int(match["mo"]), int(match["d"]))
    except ValueError as exc:
        raise FieldProblem(f"not a real date ({exc}): {show(value)}") from None
    _check_year(parsed.year, value)
    return parsed


def _excel_serial_date(serial: float, expected: str) -> date:
    earliest = (date(EARLIEST_YEAR, 1, 1) - _EXCEL_EPOCH).days
    latest = (date(LATEST_YEAR, 12, 31) - _EXCEL_EPOCH).days
    if not math.isfinite(serial) or not earliest <= serial <= latest:
        raise FieldProblem(f"expected a date in {expected}, got the number {show(serial)}")
    return _EXCEL_EPOCH + timedelta(days=int(serial))


def local_midnight_utc(day: date) -> datetime:
    """The start of a local (Asia/Shanghai) calendar day, as aware UTC."""
    return datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC)


# --- reading a record ------------------------------------------------------------------------------


class FieldReader:
    """Reads one native record field by field and remembers every problem, not just the first."""

    def __init__(self, item: Mapping[str, Any], *, now: datetime | None = None):
        self.item = item
        self.now = (now or datetime.now(UTC)).astimezone(UTC)
        self.errors: list[FieldError] = []

    def fail(self, field: str, reason: str) -> None:
        self.errors.append(FieldError(field, reason))

    def read(
        self,
        field: str,
        convert: Callable[[Any], T | None],
        *,
        required: bool = False,
        value: Any = None,
        use_value: bool = False,
    ) -> T | None:
        """``convert`` the field's value (or ``value``, for nested fields); None and an error on failure."""
        raw = value if use_value else self.item.get(field)
        try:
            result = convert(raw)
        except FieldProblem as problem:
            self.fail(field, problem.reason)
            return None
        if result is None and required:
            self.fail(field, "required, but missing or empty")
        return result

    def text(self, field: str, *, required: bool = False, max_len: int | None = None) -> str | None:
        return self.read(field, lambda value: as_text(value, max_len), required=required)

    def occurred_at(self, field: str, moment: datetime | None) -> datetime | None:
        """``moment`` unless it lies more than MAX_AHEAD in the future (then an error on ``field``)."""
        if moment is not None and moment > self.now + MAX_AHEAD:
            shown = moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
            self.fail(field, f"lies in the future ({shown} local time, more than a day ahead)")
            return None
        return moment

    def coordinates(
        self, lng_field: str, lat_field: str, lng: float | None, lat: float | None
    ) -> tuple[float, float] | None:
        """Both or neither, inside China; returns (lng, lat) or None."""
        if lng is None and lat is None:
            return None
        if lng is None or lat is None:
            missing, given = (lng_field, lat_field) if lng is None else (lat_field, lng_field)
            self.fail(missing, f"missing while {given} is given: send both coordinates or neither")
            return None
        lat_ok = CHINA_LAT[0] <= lat <= CHINA_LAT[1]
        lng_ok = CHINA_LNG[0] <= lng <= CHINA_LNG[1]
        if lat_ok and lng_ok:
            return lng, lat
        swapped = CHINA_LAT[0] <= lng <= CHINA_LAT[1] and CHINA_LNG[0] <= lat <= CHINA_LNG[1]
        hint = f" ({lng_field} and {lat_field} look swapped)" if swapped else ""
        if not lng_ok:
            self.fail(lng_field, f"longitude {lng:g} is outside China ({CHINA_LNG[0]}–{CHINA_LNG[1]}){hint}")
        if not lat_ok:
            self.fail(lat_field, f"latitude {lat:g} is outside China ({CHINA_LAT[0]}–{CHINA_LAT[1]}){hint}")
        return None

    def raise_if_failed(self, source_record_id: str | None) -> None:
        if self.errors:
            raise RecordRejected(source_record_id, list(self.errors))
