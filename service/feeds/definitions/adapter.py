"""The generic adapter: a feed definition read into the same NormalizedRecord a Python adapter makes.

It follows the rules every adapter follows (docs/adapters.md): every bad field named at once with
the department's own field names, the payload kept verbatim as a JSON-safe copy with personal
fields masked, times in aware UTC, coordinates in WGS-84 inside China, sizes within the columns.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from service.feeds.adapters.base import (
    MAX_ADDRESS_LEN,
    MAX_NAME_LEN,
    MAX_STATUS_LEN,
    MAX_USCC_LEN,
    as_record_id,
    make_title,
    normalise_word,
    require_object,
    storable_copy,
)
from service.feeds.adapters.phone import PhoneScrubber
from service.feeds.adapters.severity import at_least, base_severity
from service.feeds.definitions.format import (
    FLEXIBLE_DATE,
    FLEXIBLE_DATETIME,
    CategoryEntry,
    FeedDefinition,
    TimeSpec,
)
from service.feeds.definitions.hooks import HOOKS
from service.feeds.normalized import NormalizedRecord
from service.formats.fields import (
    EARLIEST_YEAR,
    LATEST_YEAR,
    FieldError,
    FieldProblem,
    FieldReader,
    RecordRejected,
    as_code,
    as_date,
    as_datetime,
    as_number,
    as_text,
    local_midnight_utc,
    show,
)
from service.formats.files import describe_type
from service.kit.personal import MASK, mask_phone
from service.matching.geo import bd09_to_wgs84, gcj02_to_wgs84
from service.vocabulary import CATEGORY_NAMES, Category, Severity

_SHOWN_CHOICES = 20  # an error lists at most this many of the words a field may hold


class DefinitionAdapter:
    """An adapter (see service.feeds.adapters.Adapter) built from a FeedDefinition."""

    def __init__(self, definition: FeedDefinition):
        self.definition = definition
        self.SOURCE = definition.source
        self.ID_FIELD = definition.record.id
        self.REQUIRED_COLUMNS = definition.required_columns()
        self.PREFERRED_SHEETS = (definition.transport.sheet,) if definition.transport.sheet else ()
        category = definition.category
        self._codes = {self._code_key(code): (code, entry) for code, entry in category.map.items()}
        self._labels = {
            normalise_word(entry.label): (code, entry) for code, entry in category.map.items() if entry.label
        }
        severity = definition.severity
        self._severity_words = {normalise_word(word): level for word, level in severity.map.items()}
        problem = definition.problem
        self._not_a_problem = {normalise_word(word) for word in problem.not_a_problem} if problem else set()
        self._problem_words = {normalise_word(word) for word in problem.values} if problem and problem.values else None
        status = definition.status
        self._status_words = {normalise_word(word): word for word in status.words} if status and status.words else None
        self._known_columns = set(definition.transport.columns) if definition.transport.columns else None
        self._hooks = [HOOKS[name] for name in definition.hooks]
        times = [definition.fields.time] + ([definition.fields.deadline] if definition.fields.deadline else [])
        self._time_rules = {id(spec): _time_rules(spec) for spec in times}
        self._words = {key: _spelled(words.values) for key, words in definition.fields.words.items()}
        raises = definition.severity.raise_to_base
        self._raising_words = _spelled(raises.values) if raises else {}
        coordinates = definition.fields.coordinates
        self._datum_names = (
            {normalise_word(name.upper()): value for name, value in coordinates.datum_names.items()}
            if coordinates
            else {}
        )

    def _code_key(self, code: str) -> str:
        return code if self.definition.category.digits else normalise_word(code) or code

    def parse(self, item: dict[str, Any], *, now: datetime | None = None) -> NormalizedRecord:
        """One native record as a NormalizedRecord; RecordRejected names every bad field."""
        record = dict(require_object(item))
        scrubbers = [
            PhoneScrubber(_text_or_none(_get(record, field)))
            for field, mode in self.definition.personal.items()
            if mode == "phone"
        ]

        def scrub(text: str) -> str:
            for scrubber in scrubbers:
                text = scrubber(text)
            return text

        try:
            normalized = self._parse(record, now, scrubbers)
        except RecordRejected as rejected:
            raise RecordRejected(
                rejected.source_record_id, [FieldError(error.field, scrub(error.reason)) for error in rejected.errors]
            ) from None
        for hook in self._hooks:
            normalized = hook(normalized, record)
        return normalized

    def _parse(self, record: dict[str, Any], now: datetime | None, scrubbers: list[PhoneScrubber]) -> NormalizedRecord:
        d = self.definition
        f = d.fields
        payload, storage_errors = storable_copy(record)
        reader = FieldReader(record, now=now)
        reader.errors.extend(storage_errors)
        masked = self._mask_personal(reader, payload)

        record_id = reader.read(d.record.id, as_record_id, required=True)
        self._check_columns(reader)
        occurred_at = reader.occurred_at(f.time.field, self._time(reader, f.time))
        deadline = self._time(reader, f.deadline) if f.deadline else None
        name = self._text(reader, masked, f.name, MAX_NAME_LEN)
        legal_name = self._text(reader, masked, f.legal_name, MAX_NAME_LEN)
        uscc = self._text(reader, masked, f.uscc, MAX_USCC_LEN)
        address = self._text(reader, masked, f.address, MAX_ADDRESS_LEN)
        description = "\n\n".join(text for field in f.description if (text := self._text(reader, masked, field, None)))
        status_text = self._status(reader, masked)
        category_code, entry = self._category(reader, masked)
        severity_word = self._word(reader, masked, d.severity.field, self._severity_words, d.severity.map)
        is_problem = self._is_problem(reader, masked)
        place = self._place(reader)
        extra: dict[str, Any] = {d.category.extra_key: category_code} if d.category.field else {}
        extra.update((key, self._text(reader, masked, field, None)) for key, field in f.extra.items())
        extra.update((key, self._list(reader, masked, spec.field, spec.item)) for key, spec in f.lists.items())
        for key, words in f.words.items():
            extra[key] = self._word(reader, masked, words.field, self._words[key], words.values)
        for key, field in f.dates.items():
            day = reader.read(field, as_date, value=_get(masked, field), use_value=True)
            extra[key] = day.isoformat() if day else None
        raises = d.severity.raise_to_base
        raised = raises is not None and normalise_word(_text_or_none(_get(masked, raises.field))) in self._raising_words
        if f.deadline:
            extra["deadline"] = deadline.isoformat() if deadline else None
        if f.legal_name:
            extra["legal_name"] = legal_name
        if d.record.revision.field:
            extra["revision"] = self._text(reader, masked, d.record.revision.field, None)

        reader.errors[:] = list(dict.fromkeys(reader.errors))  # a field several rules read is named once
        reader.raise_if_failed(record_id)
        assert record_id is not None and occurred_at is not None and entry is not None  # the reader has checked

        severity = entry.severity or self._severity(entry.category, Severity(severity_word) if severity_word else None)
        if raised and is_problem:
            severity = at_least(severity, base_severity(Category(entry.category)))
        title_parts = self._title_parts(reader, masked, entry, category_code, name, address, status_text)

        def scrub(text: str) -> str:
            for scrubber in scrubbers:
                text = scrubber(text)
            return text

        def scrub_all(value: Any) -> Any:
            for scrubber in scrubbers:
                value = scrubber.payload(value)
            return value

        return NormalizedRecord(
            source=d.source,
            source_record_id=record_id,
            payload=scrub_all(payload),
            category=Category(entry.category),
            occurred_at=occurred_at,
            is_problem=is_problem,
            title=scrub(make_title(*title_parts)),
            description=scrub(description),
            name=scrub(name) if name else (scrub(legal_name) if legal_name else None),
            address=scrub(address) if address else None,
            uscc=uscc,
            lng=place[0] if place else None,
            lat=place[1] if place else None,
            severity=severity,
            status_text=scrub(status_text) if status_text else None,
            extra=scrub_all(extra),
        )

    # --- fields ---------------------------------------------------------------------------------

    def _mask_personal(self, reader: FieldReader, payload: dict[str, Any]) -> dict[str, Any]:
        """The record as the rest is read from: personal fields masked (in the payload too)."""
        masked = dict(reader.item)
        for field, mode in self.definition.personal.items():
            top = field.split(".")[0]
            if top not in payload:
                continue
            if mode == "drop":
                payload.pop(top, None)
                masked.pop(top, None)
                continue
            if "." in field:
                reader.fail(field, "personal fields must be top-level fields")
                continue
            value = reader.item.get(field)
            try:
                text = as_text(value)
            except FieldProblem:
                reader.fail(field, f"expected text, got {describe_type(value)}")  # never echo personal data
                text = None
            shown = None if text is None else (mask_phone(text) if mode == "phone" else MASK)
            if text is not None:
                payload[field] = shown
            masked[field] = shown
        return masked

    def _check_columns(self, reader: FieldReader) -> None:
        if self._known_columns is None:
            return
        for key, value in reader.item.items():
            if key not in self._known_columns and not _blank(value):
                shown = ", ".join(sorted(self._known_columns))
                reader.fail(key, f"unknown column (a shifted or foreign export?); this source's columns are: {shown}")

    def _text(
        self, reader: FieldReader, masked: Mapping[str, Any], field: str | None, max_len: int | None
    ) -> str | None:
        if field is None:
            return None
        return reader.read(field, lambda value: as_text(value, max_len), value=_get(masked, field), use_value=True)

    def _time(self, reader: FieldReader, spec: TimeSpec) -> datetime | None:
        value = _get(reader.item, spec.field)
        rules = self._time_rules[id(spec)]
        convert = lambda raw: read_time(raw, spec, rules)  # noqa: E731
        return reader.read(spec.field, convert, required=spec.required, value=value, use_value=True)

    def _status(self, reader: FieldReader, masked: Mapping[str, Any]) -> str | None:
        status = self.definition.status
        if status is None:
            return None
        errors_before = len(reader.errors)
        if self._status_words is None:
            word = self._text(reader, masked, status.field, MAX_STATUS_LEN)
        else:
            word = self._word(reader, masked, status.field, self._status_words, status.words or [])
        if word is None and status.required and len(reader.errors) == errors_before:
            reader.fail(status.field, "required, but missing or empty")
        return word

    def _word(
        self,
        reader: FieldReader,
        masked: Mapping[str, Any],
        field: str | None,
        table: Mapping[str | None, str],
        choices: Any,
    ) -> str | None:
        """The field's word looked up in ``table`` (normalised); an unknown word is an error naming the choices."""
        if field is None:
            return None
        errors_before = len(reader.errors)
        word = normalise_word(self._text(reader, masked, field, None))
        if word is None or len(reader.errors) > errors_before:
            return None
        if word not in table:
            reader.fail(field, f"unknown value {show(word)}; expected one of: {_choices(choices)}")
            return None
        return table[word]

    def _category(self, reader: FieldReader, masked: Mapping[str, Any]) -> tuple[str | None, CategoryEntry | None]:
        """(the code as the table spells it, its entry); (None, None) with an error when it cannot be told."""
        spec = self.definition.category
        if spec.fixed:
            return None, CategoryEntry(category=spec.fixed)
        if spec.keywords:
            text = " ".join(t for field in spec.keywords_over if (t := self._text(reader, masked, field, None)))
            for rule in spec.keywords:
                if any(word in text for word in rule.words):
                    return None, CategoryEntry(category=rule.category)
            if spec.default:
                return None, CategoryEntry(category=spec.default)
            reader.fail(spec.keywords_over[0], f"none of the category keywords found in {show(text)}")
            return None, None
        assert spec.field is not None  # the model allows no fourth way
        errors_before = len(reader.errors)
        raw = _get(masked, spec.field)
        if spec.digits:
            digits = spec.digits
            code = reader.read(spec.field, lambda value: as_code(value, digits), value=raw, use_value=True)
        else:
            code = normalise_word(reader.read(spec.field, as_text, value=raw, use_value=True))
        label = normalise_word(self._text(reader, masked, spec.label_field, None))
        if len(reader.errors) > errors_before:
            return None, None
        if code is not None and code in self._codes:
            return self._codes[code]
        if spec.label_field and (code is None or spec.label_when_unknown) and label in self._labels:
            return self._labels[label]
        if spec.default:
            return code, CategoryEntry(category=spec.default)
        if code is not None:
            reader.fail(
                spec.field, f"unknown {spec.name or 'value'} {show(code)}; expected one of: {_choices(spec.map)}"
            )
        elif label is not None and spec.label_field and spec.label_when_unknown:
            # The label only stands in for the code: the code is what is missing (city).
            named = f"{spec.label_name or spec.label_field} {show(label)}"
            reader.fail(spec.field, f"required, but missing or empty and {named} is not in the table either")
        elif label is not None and spec.label_field:
            reader.fail(
                spec.label_field, f"unknown {spec.label_name or 'value'} {show(label)} and no {spec.field} was sent"
            )
        else:
            reader.fail(spec.field, "required, but missing or empty")
        return None, None

    def _severity(self, category: str, word_level: Severity | None) -> Severity:
        level = word_level or base_severity(Category(category))
        floor = self.definition.severity.at_least
        return at_least(level, floor) if floor else level

    def _is_problem(self, reader: FieldReader, masked: Mapping[str, Any]) -> bool:
        problem = self.definition.problem
        if problem is None:
            return True
        errors_before = len(reader.errors)
        word = normalise_word(self._text(reader, masked, problem.field, None))
        if len(reader.errors) > errors_before:
            return True
        if word is not None and self._problem_words is not None and word not in self._problem_words:
            reader.fail(problem.field, f"unknown value {show(word)}; expected one of: {_choices(problem.values)}")
        return word not in self._not_a_problem

    def _list(self, reader: FieldReader, masked: Mapping[str, Any], field: str, item: str) -> list[str]:
        def convert(value: object) -> list[str] | None:
            if value is None:
                return None
            if not isinstance(value, list):
                raise FieldProblem(f"expected a list of {item}s, got {describe_type(value)}")
            texts = []
            for position, entry in enumerate(value, 1):
                if not isinstance(entry, str):
                    raise FieldProblem(f"{item.split()[0]} {position}: expected text, got {describe_type(entry)}")
                if entry.strip():
                    texts.append(entry.strip())
            return texts

        return reader.read(field, convert, value=_get(masked, field), use_value=True) or []

    def _place(self, reader: FieldReader) -> tuple[float, float] | None:
        spec = self.definition.fields.coordinates
        if spec is None:
            return None
        holder = _holder_problem(reader.item, spec.lng, spec.lat, spec.datum_field)
        if holder is not None:
            reader.fail(*holder)
            return None
        errors_before = len(reader.errors)
        lng = reader.read(spec.lng, as_number, value=_get(reader.item, spec.lng), use_value=True)
        lat = reader.read(spec.lat, as_number, value=_get(reader.item, spec.lat), use_value=True)
        datum: str = spec.datum
        if spec.datum_field:
            named = self._datum_names

            def read_datum(value: object) -> str:
                text = as_text(value)
                if text is None:
                    return spec.datum
                datum_name = named.get(normalise_word(text.upper()))
                if datum_name is None:
                    choices = " or ".join(sorted(set(spec.datum_names.values())))
                    raise FieldProblem(f"unknown coordinate system {show(text)}; expected {choices}")
                return datum_name

            value = _get(reader.item, spec.datum_field)
            datum = reader.read(spec.datum_field, read_datum, value=value, use_value=True) or datum
        if len(reader.errors) > errors_before:
            return None
        place = reader.coordinates(spec.lng, spec.lat, lng, lat)
        if place is None or datum == "WGS-84":
            return place
        return gcj02_to_wgs84(*place) if datum == "GCJ-02" else bd09_to_wgs84(*place)

    def _title_parts(
        self,
        reader: FieldReader,
        masked: Mapping[str, Any],
        entry: CategoryEntry,
        code: str | None,
        name: str | None,
        address: str | None,
        status_text: str | None,
    ) -> list[str | None]:
        parts: list[str | None] = []
        for part in self.definition.title:
            if part == "@category":
                parts.append(entry.label or code or CATEGORY_NAMES[Category(entry.category)])
            elif part == "@status":
                parts.append(status_text)
            elif part == "@place":
                parts.append(address or name)
            elif part == "@site":
                parts.append(name or address)
            elif part == "@name":
                parts.append(name)
            elif part == "@address":
                parts.append(address)
            else:
                try:
                    parts.append(as_text(_get(masked, part)))
                except FieldProblem:
                    parts.append(None)  # already named by the field's own reading, or not read at all
        return parts


# --- values -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _TimeRules:
    """What reading a TimeSpec needs, worked out once per definition rather than per record."""

    zone: ZoneInfo
    expected: str  # the formats as errors name them
    dates_only: bool  # no format has a time of day


def _time_rules(spec: TimeSpec) -> _TimeRules:
    return _TimeRules(
        zone=ZoneInfo(spec.timezone),
        expected=spec.shown or " or ".join(_show_format(fmt) for fmt in spec.formats),
        dates_only=all(fmt == FLEXIBLE_DATE or (fmt != FLEXIBLE_DATETIME and "%H" not in fmt) for fmt in spec.formats),
    )


def read_time(value: object, spec: TimeSpec, rules: _TimeRules | None = None) -> datetime | None:
    """A time in one of the spec's formats as aware UTC; a time without an offset is in spec.timezone."""
    if value is None:
        return None
    rules = rules or _time_rules(spec)
    zone, dates_only = rules.zone, rules.dates_only
    if isinstance(value, datetime) and dates_only:  # a date cell: the day it is in the zone, from its midnight
        _check_year(value.year, value)
        cell_day = (value.astimezone(zone) if value.tzinfo else value).date()
        return datetime(cell_day.year, cell_day.month, cell_day.day, tzinfo=zone).astimezone(UTC)
    if isinstance(value, datetime):  # an XLSX date-time cell
        moment = value if value.tzinfo else value.replace(tzinfo=zone)
        _check_year(moment.year, value)
        return moment.astimezone(UTC)
    if isinstance(value, date):
        _check_year(value.year, value)
        return datetime(value.year, value.month, value.day, tzinfo=zone).astimezone(UTC)
    expected = rules.expected
    problems: list[FieldProblem] = []
    for fmt in spec.formats:
        try:
            if fmt == FLEXIBLE_DATETIME:
                return as_datetime(value, expected)
            if fmt == FLEXIBLE_DATE:
                day = as_date(value, expected)
                return local_midnight_utc(day) if day else None
            return _strptime(value, fmt, zone, expected)
        except FieldProblem as problem:
            problems.append(problem)
    if len(problems) == 1:
        raise problems[0]
    raise FieldProblem(f"not a time in {expected}: {show(value)}")


def _strptime(value: object, fmt: str, zone: ZoneInfo, expected: str) -> datetime | None:
    if not isinstance(value, str):
        raise FieldProblem(f"expected a time in {expected}, got {describe_type(value)}")
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return None
    try:
        moment = datetime.strptime(text, fmt)
    except ValueError:
        raise FieldProblem(f"not a time in {expected}: {show(value)}") from None
    _check_year(moment.year, value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _check_year(year: int, value: object) -> None:
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise FieldProblem(f"year {year} is not plausible (expected {EARLIEST_YEAR}–{LATEST_YEAR}): {show(value)}")


_FORMAT_CODES = {"%Y": "YYYY", "%m": "MM", "%d": "DD", "%H": "HH", "%M": "mm", "%S": "ss", "%z": "±HHMM"}


def _show_format(fmt: str) -> str:
    if fmt == FLEXIBLE_DATETIME:
        return "YYYY-MM-DD HH:MM[:SS]"
    if fmt == FLEXIBLE_DATE:
        return "YYYY/MM/DD"
    for code, shown in _FORMAT_CODES.items():
        fmt = fmt.replace(code, shown)
    return fmt


def _get(record: Mapping[str, Any], field: str) -> Any:
    """The field's value; a dotted name reads inside objects (location.lng)."""
    if field in record or "." not in field:
        return record.get(field)
    value: Any = record
    for part in field.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _holder_problem(record: Mapping[str, Any], *fields: str | None) -> tuple[str, str] | None:
    """(field, reason) when the object the coordinates are read from is there but not an object."""
    dotted = [field for field in fields if field and "." in field and field not in record]
    if not dotted:
        return None
    holder = dotted[0].split(".")[0]
    value = record.get(holder)
    if value is None or value == "" or isinstance(value, Mapping):
        return None
    keys = ", ".join(field.split(".", 1)[1] for field in dotted)
    return holder, f"expected an object {{{keys}}}, got {describe_type(value)}"


def _spelled(words: list[str]) -> dict[str | None, str]:
    """Normalised word → the word as the list spells it."""
    return {normalise_word(word): word for word in words}


def _text_or_none(value: object) -> str | None:
    try:
        return as_text(value)
    except FieldProblem:
        return None


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _choices(choices: Any) -> str:
    words = list(choices or ())
    shown = ", ".join(str(word) for word in words[:_SHOWN_CHOICES])
    return shown + (f" … ({len(words)} in all)" if len(words) > _SHOWN_CHOICES else "")
