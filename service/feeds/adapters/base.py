"""What the department adapters share beyond the generic field readers (service/formats/fields.py):
the column sizes of source_records, the record id, and the checks on the record as a whole.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from service.formats.fields import FieldError, FieldProblem, RecordRejected, as_text, show
from service.formats.files import describe_type

# Column sizes of source_records (service/feeds/models.py): longer values would fail on PostgreSQL.
MAX_ID_LEN = 128
MAX_NAME_LEN = 200
MAX_ADDRESS_LEN = 300
MAX_TITLE_LEN = 300
MAX_USCC_LEN = 32
MAX_STATUS_LEN = 64

RECORD_FIELD = "(record)"  # the field named when the record itself is not an object


def as_record_id(value: object) -> str | None:
    """A record id: text or an integer, no control characters, at most MAX_ID_LEN characters."""
    if isinstance(value, float):
        # A float id has lost digits already (20-digit 接警单编号 as a JSON number).
        raise FieldProblem(f"expected the id as text, got a number with a fraction or exponent: {show(value)}")
    text = as_text(value, MAX_ID_LEN)
    # Every control (C*) character is unprintable: most ids are told apart by one call in C.
    if text is not None and not text.isprintable() and any(unicodedata.category(char)[0] == "C" for char in text):
        raise FieldProblem(f"contains control characters: {show(text)}")
    return text


def require_object(item: object) -> Mapping[str, Any]:
    """The record itself must be a JSON object (a dict); anything else is rejected whole."""
    if not isinstance(item, Mapping):
        raise RecordRejected(None, [FieldError(RECORD_FIELD, f"expected an object, got {describe_type(item)}")])
    return item


def storable_copy(item: Mapping[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """A JSON-safe deep copy of the record, and the fields that cannot be stored at all.

    Spreadsheet dates become ISO text. NUL characters, lone surrogates and non-finite numbers
    cannot be stored in PostgreSQL's JSON, in a value or in a field's name, so they are errors
    naming the top-level field.
    """
    errors: list[FieldError] = []
    copy: dict[str, Any] = {}
    for key, value in item.items():
        try:
            copy[storable_name(key)] = storable_value(value)
        except FieldProblem as problem:
            errors.append(FieldError(printable_name(key), problem.reason))
    return copy, errors


def storable_name(key: object) -> str:
    """A field's name, if it can be stored; FieldProblem if not."""
    if type(key) is not str:
        raise FieldProblem("field names must be text")
    if not key.isprintable():  # one call in C for the common name; the checks below are rare
        if "\x00" in key:
            raise FieldProblem("a field name contains a NUL character")
        try:
            key.encode("utf-8")
        except UnicodeEncodeError:
            raise FieldProblem("a field name contains invalid Unicode (a lone surrogate)") from None
    return key


def printable_name(key: object) -> str:
    """A field's name as an error can carry it: a lone surrogate or a NUL spelled as an escape."""
    return str(key).encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def storable_value(value: Any) -> Any:
    # No depth limit of its own: a pushed record came through the JSON guard, which bounds nesting
    # for every body (service/formats/json_body.py), and a file's rows are flat.
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
        return {storable_name(key): storable_value(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [storable_value(inner) for inner in value]
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
