"""What every adapter needs: reading native fields while collecting every problem, and the
value checks that are the same for all departments (text, numbers, times, places in China).

Converters (``as_text``, ``as_number``, ``as_datetime``, ``as_date``) take one raw value and
return the clean value, None for an empty one, or raise ``FieldProblem`` with a reason a
department clerk can act on. ``FieldReader`` applies them to named fields and remembers each
failure, so that one rejection names every bad field at once.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from service.feeds.files import cell_text, describe_type
from service.feeds.normalized import FieldError, RecordRejected

T = TypeVar("T")

SHANGHAI = ZoneInfo("Asia/Shanghai")  # every time without a zone is local time (feeds/README.md)

# Inside China's bounding box, as agreed with the departments; anything else is a typo or (0, 0).
CHINA_LAT = (3.8, 53.6)
CHINA_LNG = (73.5, 135.1)

# A record may be stamped a little ahead (clocks drift), not days ahead.
MAX_AHEAD = timedelta(days=1)
EARLIEST_YEAR, LATEST_YEAR = 1990, 2100  # outside these a date is a typo (and 0001 would overflow UTC)

# Column sizes of source_records (service/feeds/models.py): longer values would fail on PostgreSQL.
MAX_ID_LEN = 128
MAX_NAME_LEN = 200
MAX_ADDRESS_LEN = 300
MAX_TITLE_LEN = 300
MAX_USCC_LEN = 32
MAX_STATUS_LEN = 64

RECORD_FIELD = "(record)"  # the field named when the record itself is not an object


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


def text_limited(max_len: int) -> Callable[[object], str | None]:
    return lambda value: as_text(value, max_len)


def as_record_id(value: object) -> str | None:
    """A record id: text or an integer, no control characters, at most MAX_ID_LEN characters."""
    if isinstance(value, float):
        # A float id has lost digits already (20-digit 接警单编号 as a JSON number).
        raise FieldProblem(f"expected the id as text, got a number with a fraction or exponent: {show(value)}")
    text = as_text(value, MAX_ID_LEN)
    if text is not None and any(unicodedata.category(char)[0] == "C" for char in text):
        raise FieldProblem(f"contains control characters: {show(text)}")
    return text


def as_code(value: object, digits: int) -> str | None:
    """A fixed-width numeric code ("0402"); an integer that lost its leading zeros is padded back."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**digits:
        return str(value).zfill(digits)
    text = as_text(value)
    if text is None:
        return None
    text = unicodedata.normalize("NFKC", text)
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


def require_object(item: object) -> Mapping[str, Any]:
    """The record itself must be a JSON object (a dict); anything else is rejected whole."""
    if not isinstance(item, Mapping):
        raise RecordRejected(None, [FieldError(RECORD_FIELD, f"expected an object, got {describe_type(item)}")])
    return item


def storable_copy(item: Mapping[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """A JSON-safe deep copy of the record, and the fields that cannot be stored at all.

    Spreadsheet dates become ISO text. NUL characters, lone surrogates and non-finite numbers
    cannot be stored in PostgreSQL's JSON, so they are errors naming the top-level field.
    """
    errors: list[FieldError] = []
    copy: dict[str, Any] = {}
    for key, value in item.items():
        if not isinstance(key, str):
            errors.append(FieldError(str(key), "field names must be text"))
            continue
        try:
            copy[key] = _storable(value, depth=0)
        except FieldProblem as problem:
            errors.append(FieldError(key, problem.reason))
    return copy, errors


_MAX_DEPTH = 20


def _storable(value: Any, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise FieldProblem(f"nested more than {_MAX_DEPTH} levels deep")
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FieldProblem("not a finite number")
        return value
    if isinstance(value, str):
        if "\x00" in value:
            raise FieldProblem("contains a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise FieldProblem("contains invalid Unicode (a lone surrogate)") from None
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise FieldProblem("field names must be text")
        return {key: _storable(inner, depth + 1) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(inner, depth + 1) for inner in value]
    raise FieldProblem(f"cannot be stored: {describe_type(value)}")


def make_title(*parts: str | None) -> str:
    """Parts joined with " · ", empty ones left out, cut to the column's size."""
    title = " · ".join(part for part in parts if part)
    return title if len(title) <= MAX_TITLE_LEN else title[: MAX_TITLE_LEN - 1] + "…"


def normalise_word(text: str | None) -> str | None:
    """An enumerated word as the tables spell it: NFKC (full-width to half-width), no inner spaces."""
    if text is None:
        return None
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
