"""The generic adapter: a feed definition read into the same NormalizedRecord a Python adapter makes.

It follows the rules every adapter follows (docs/adapters.md): every bad field named at once with
the department's own field names, the payload kept verbatim as a JSON-safe copy with personal
fields masked, times in aware UTC, coordinates in WGS-84 inside China, sizes within the columns.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
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
    printable_name,
    require_object,
    storable_name,
    storable_value,
)
from service.feeds.adapters.phone import PHONE_LIKE as _PHONE_LIKE
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
from service.feeds.normalized import NormalizedRecord, revision_key
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
from service.formats.files import _INVISIBLE, cell_text, describe_type
from service.kit.clock import SHANGHAI
from service.kit.personal import MASK, mask_phone
from service.matching.geo import bd09_to_wgs84, gcj02_to_wgs84
from service.vocabulary import CATEGORY_NAMES, Category, Severity

MAX_REVISION_LEN = 60  # a revision is kept as a key of at most 64 characters (service/feeds/normalized.py)
_SHOWN_CHOICES = 20  # an error lists at most this many of the words a field may hold


class DefinitionAdapter:
    """An adapter (see service.feeds.adapters.Adapter) built from a FeedDefinition.

    The definition is compiled once into small readers, one per field (closures over the field's
    name, size and tables), so reading a record builds no tables, regexes or models: it runs the
    readers in a fixed order, collecting every problem (docs/adapters.md, "Feed definitions").
    """

    def __init__(self, definition: FeedDefinition):
        self.definition = definition
        self.SOURCE = definition.source
        self.ID_FIELD = definition.record.id
        self.REQUIRED_COLUMNS = definition.required_columns()
        self.PREFERRED_SHEETS = (definition.transport.sheet,) if definition.transport.sheet else ()
        self.TRANSPORT_KINDS: tuple[str, ...] = tuple(definition.transport.kinds)  # how records may arrive
        encodings = definition.transport.encodings
        self.TRANSPORT_ENCODINGS: tuple[str, ...] | None = tuple(encodings) if encodings is not None else None  # of CSV
        d, f = definition, definition.fields
        category = d.category
        self._codes = {self._code_key(code): (code, entry) for code, entry in category.map.items()}
        self._labels = {
            normalise_word(entry.label): (code, entry) for code, entry in category.map.items() if entry.label
        }
        self._fixed_entry = CategoryEntry(category=category.fixed) if category.fixed else None
        self._keyword_entries = [(rule.words, CategoryEntry(category=rule.category)) for rule in category.keywords]
        self._default_entry = CategoryEntry(category=category.default) if category.default else None
        severity = d.severity
        self._severity_words = {normalise_word(word): level for word, level in severity.map.items()}
        problem = d.problem
        self._not_a_problem = {normalise_word(word) for word in problem.not_a_problem} if problem else set()
        self._problem_words = {normalise_word(word) for word in problem.values} if problem and problem.values else None
        status = d.status
        self._status_words = {normalise_word(word): word for word in status.words} if status and status.words else None
        self._known_columns = set(d.transport.columns) if d.transport.columns else None
        self._hooks = [HOOKS[name] for name in d.hooks]
        self._personal = dict(d.personal)
        self._phone_fields = [field for field, mode in d.personal.items() if mode == "phone"]
        self._time_rules = {id(spec): _time_rules(spec) for spec in (f.time, f.deadline) if spec}
        self._words = {key: _spelled(words.values) for key, words in f.words.items()}
        raises = severity.raise_to_base
        self._raising_words = _spelled(raises.values) if raises else {}
        coordinates = f.coordinates
        self._datum_names = (
            {normalise_word(name.upper()): value for name, value in coordinates.datum_names.items()}
            if coordinates
            else {}
        )
        self._severity_cache: dict[tuple[str, Severity | None], Severity] = {}

        # --- the readers, compiled once ---------------------------------------------------------
        self._read_id = _reader(d.record.id, as_record_id, required=True)
        self._read_time = self._time_reader(f.time)
        self._read_deadline = self._time_reader(f.deadline) if f.deadline else None
        self._read_name = _text_reader(f.name, MAX_NAME_LEN) if f.name else None
        self._read_legal_name = _text_reader(f.legal_name, MAX_NAME_LEN) if f.legal_name else None
        self._read_uscc = _text_reader(f.uscc, MAX_USCC_LEN) if f.uscc else None
        self._read_address = _text_reader(f.address, MAX_ADDRESS_LEN) if f.address else None
        self._read_description = [_text_reader(field, None) for field in f.description]
        self._read_status = self._status_reader() if status else None
        self._read_severity_word = (
            self._word_reader(severity.field, self._severity_words, severity.map) if severity.field else None
        )
        self._read_problem = _text_reader(problem.field, None) if problem else None
        self._read_extra = [(key, _text_reader(field, None)) for key, field in f.extra.items()]
        self._read_lists = [(key, _list_reader(spec.field, spec.item)) for key, spec in f.lists.items()]
        self._read_words = [
            (key, self._word_reader(words.field, self._words[key], words.values)) for key, words in f.words.items()
        ]
        self._read_dates = [(key, _reader(field, as_date)) for key, field in f.dates.items()]
        self._get_raises = _getter(raises.field) if raises else None
        revision_field = d.record.revision.field if d.record.revision.rule == "field" else None
        self._read_revision = (
            _required(_text_reader(revision_field, MAX_REVISION_LEN), revision_field) if revision_field else None
        )
        self._read_category_text = [_text_reader(field, None) for field in category.keywords_over]
        self._read_code = (
            (
                _reader(category.field, _code_converter(category.digits))
                if category.digits
                else _text_reader(category.field, None)
            )
            if category.field
            else None
        )
        self._read_label = _text_reader(category.label_field, None) if category.label_field else None
        self._read_place = self._place_reader() if f.coordinates else None
        self._title_getters = {
            part: _getter(part) for part in d.title if not part.startswith("@")
        }  # a field named in the title

    def _code_key(self, code: str) -> str:
        return code if self.definition.category.digits else normalise_word(code) or code

    def parse(self, item: dict[str, Any], *, now: datetime | None = None) -> NormalizedRecord:
        """One native record as a NormalizedRecord; RecordRejected names every bad field."""
        record = item if type(item) is dict else dict(require_object(item))
        scrubbers = [PhoneScrubber(_text_or_none(_get(record, field))) for field in self._phone_fields]
        scrubbers = [scrubber for scrubber in scrubbers if scrubber.active]
        try:
            normalized = self._parse(record, now, scrubbers)
        except RecordRejected as rejected:
            if not scrubbers:
                raise
            raise RecordRejected(
                rejected.source_record_id,
                [FieldError(error.field, _scrub(scrubbers, error.reason)) for error in rejected.errors],
            ) from None
        for hook in self._hooks:
            normalized = hook(normalized, record)
        return normalized

    def _parse(self, record: dict[str, Any], now: datetime | None, scrubbers: list[PhoneScrubber]) -> NormalizedRecord:
        d = self.definition
        reader = FieldReader(record, now=now)
        errors = reader.errors
        payload = _storable_copy(record, errors)
        masked = self._mask_personal(reader, payload) if self._personal else record

        record_id = self._read_id(record, errors)
        if self._known_columns is not None:
            self._check_columns(reader)
        occurred_at = reader.occurred_at(d.fields.time.field, self._read_time(record, errors))
        deadline = self._read_deadline(record, errors) if self._read_deadline else None
        name = self._read_name(masked, errors) if self._read_name else None
        legal_name = self._read_legal_name(masked, errors) if self._read_legal_name else None
        uscc = self._read_uscc(masked, errors) if self._read_uscc else None
        address = self._read_address(masked, errors) if self._read_address else None
        if len(self._read_description) == 1:
            description = self._read_description[0](masked, errors) or ""
        else:
            description = "\n\n".join(text for read in self._read_description if (text := read(masked, errors)))
        status_text = self._read_status(masked, errors) if self._read_status else None
        category_code, entry = self._category(masked, errors)
        severity_word = self._read_severity_word(masked, errors) if self._read_severity_word else None
        is_problem = self._is_problem(masked, errors) if self._read_problem else True
        place = self._read_place(reader) if self._read_place else None
        extra: dict[str, Any] = {d.category.extra_key: category_code} if d.category.field else {}
        for key, read in self._read_extra:
            extra[key] = read(masked, errors)
        for key, read in self._read_lists:
            extra[key] = read(masked, errors) or []
        for key, read in self._read_words:
            extra[key] = read(masked, errors)
        for key, read in self._read_dates:
            day = read(masked, errors)
            extra[key] = day.isoformat() if day else None
        raised = (
            self._get_raises is not None
            and normalise_word(_text_or_none(self._get_raises(masked))) in self._raising_words
        )
        if self._read_deadline:
            extra["deadline"] = deadline.isoformat() if deadline else None
        if self._read_legal_name:
            extra["legal_name"] = legal_name
        revision = None
        if self._read_revision:
            revision = extra["revision"] = self._read_revision(masked, errors)

        if errors:
            errors[:] = list(dict.fromkeys(errors))  # a field several rules read is named once
            reader.raise_if_failed(record_id)
        assert record_id is not None and occurred_at is not None and entry is not None  # the readers have checked

        severity = entry.severity or self._severity(entry.category, severity_word)
        if raised and is_problem:
            severity = at_least(severity, base_severity(Category(entry.category)))
        title = make_title(*self._title_parts(masked, entry, category_code, name, address, status_text))
        texts = [text for text in (title, description, name, legal_name, address, status_text) if text]
        if scrubbers and _may_need_scrubbing(scrubbers, texts, payload, extra):
            _scrub_top_level(scrubbers, payload)
            _scrub_top_level(scrubbers, extra)
            title, description = _scrub(scrubbers, title), _scrub(scrubbers, description)
            name = _scrub(scrubbers, name) if name else name
            legal_name = _scrub(scrubbers, legal_name) if legal_name else legal_name
            address = _scrub(scrubbers, address) if address else address
            status_text = _scrub(scrubbers, status_text) if status_text else status_text

        return NormalizedRecord(
            source=d.source,
            source_record_id=record_id,
            payload=payload,
            category=Category(entry.category),
            occurred_at=occurred_at,
            is_problem=is_problem,
            title=title,
            description=description,
            name=name or legal_name or None,
            address=address or None,
            uscc=uscc,
            lng=place[0] if place else None,
            lat=place[1] if place else None,
            severity=severity,
            status_text=status_text or None,
            revision=revision_key(revision) if revision is not None else None,
            extra=extra,
        )

    # --- fields ---------------------------------------------------------------------------------

    def _mask_personal(self, reader: FieldReader, payload: dict[str, Any]) -> dict[str, Any]:
        """The record as the rest is read from: personal fields masked (in the payload too)."""
        masked = dict(reader.item)
        for field, mode in self._personal.items():
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
        known = self._known_columns
        assert known is not None
        for key, value in reader.item.items():
            if key not in known and not _blank(value):
                shown = ", ".join(sorted(known))
                reader.fail(key, f"unknown column (a shifted or foreign export?); this source's columns are: {shown}")

    def _time_reader(self, spec: TimeSpec) -> _Read:
        rules = self._time_rules[id(spec)]
        expected = rules.expected
        if spec.formats == [FLEXIBLE_DATETIME]:

            def convert(value: object) -> datetime | None:
                if type(value) is str:
                    return _iso_datetime(value) or as_datetime(value, expected)
                return read_time(value, spec, rules)

        else:

            def convert(value: object) -> datetime | None:
                return read_time(value, spec, rules)

        return _reader(spec.field, convert, required=spec.required)

    def _status_reader(self) -> _Read:
        status = self.definition.status
        assert status is not None
        if self._status_words is None:
            read_word = _text_reader(status.field, MAX_STATUS_LEN)
        else:
            read_word = self._word_reader(status.field, self._status_words, status.words or [])
        field, required = status.field, status.required

        def read(masked: Mapping[str, Any], errors: list[FieldError]) -> str | None:
            errors_before = len(errors)
            word = read_word(masked, errors)
            if word is None and required and len(errors) == errors_before:
                errors.append(FieldError(field, "required, but missing or empty"))
            return word

        return read

    @staticmethod
    def _word_reader(field: str, table: Mapping[str | None, str], choices: Any) -> _Read:
        """The field's word looked up in ``table`` (normalised); an unknown word is an error naming the choices."""
        read_text = _text_reader(field, None)
        shown_choices = _choices(choices)

        def read(masked: Mapping[str, Any], errors: list[FieldError]) -> str | None:
            errors_before = len(errors)
            text = read_text(masked, errors)
            if text is None or len(errors) > errors_before:
                return None
            word = normalise_word(text)
            if word not in table:
                errors.append(FieldError(field, f"unknown value {show(word)}; expected one of: {shown_choices}"))
                return None
            return table[word]

        return read

    def _category(self, masked: Mapping[str, Any], errors: list[FieldError]) -> tuple[str | None, CategoryEntry | None]:
        """(the code as the table spells it, its entry); (None, None) with an error when it cannot be told."""
        if self._fixed_entry is not None:
            return None, self._fixed_entry
        spec = self.definition.category
        if self._keyword_entries:
            text = " ".join(t for read in self._read_category_text if (t := read(masked, errors)))
            for words, keyword_entry in self._keyword_entries:
                if any(word in text for word in words):
                    return None, keyword_entry
            if self._default_entry is not None:
                return None, self._default_entry
            errors.append(FieldError(spec.keywords_over[0], f"none of the category keywords found in {show(text)}"))
            return None, None
        assert spec.field is not None and self._read_code is not None  # the model allows no fourth way
        errors_before = len(errors)
        code = self._read_code(masked, errors)
        if not spec.digits:
            code = normalise_word(code)
        label = normalise_word(self._read_label(masked, errors)) if self._read_label else None
        if len(errors) > errors_before:
            return None, None
        if code is not None and code in self._codes:
            return self._codes[code]
        if spec.label_field and (code is None or spec.label_when_unknown) and label in self._labels:
            return self._labels[label]
        if self._default_entry is not None:
            return code, self._default_entry
        if code is not None:
            errors.append(
                FieldError(
                    spec.field, f"unknown {spec.name or 'value'} {show(code)}; expected one of: {_choices(spec.map)}"
                )
            )
        elif label is not None and spec.label_field and spec.label_when_unknown:
            # The label only stands in for the code: the code is what is missing (city).
            named = f"{spec.label_name or spec.label_field} {show(label)}"
            errors.append(
                FieldError(spec.field, f"required, but missing or empty and {named} is not in the table either")
            )
        elif label is not None and spec.label_field:
            errors.append(
                FieldError(
                    spec.label_field, f"unknown {spec.label_name or 'value'} {show(label)} and no {spec.field} was sent"
                )
            )
        else:
            errors.append(FieldError(spec.field, "required, but missing or empty"))
        return None, None

    def _severity(self, category: str, word: str | None) -> Severity:
        key = (category, Severity(word) if word else None)
        level = self._severity_cache.get(key)
        if level is None:
            level = key[1] or base_severity(Category(category))
            floor = self.definition.severity.at_least
            level = self._severity_cache[key] = at_least(level, floor) if floor else level
        return level

    def _is_problem(self, masked: Mapping[str, Any], errors: list[FieldError]) -> bool:
        problem = self.definition.problem
        assert problem is not None and self._read_problem is not None
        errors_before = len(errors)
        word = normalise_word(self._read_problem(masked, errors))
        if len(errors) > errors_before:
            return True
        if word is not None and self._problem_words is not None and word not in self._problem_words:
            errors.append(
                FieldError(problem.field, f"unknown value {show(word)}; expected one of: {_choices(problem.values)}")
            )
        return word not in self._not_a_problem

    def _place_reader(self) -> Callable[[FieldReader], tuple[float, float] | None]:
        """The coordinates in WGS-84 (lng, lat), or None: both fields empty, or an error named."""
        spec = self.definition.fields.coordinates
        assert spec is not None
        lng_field, lat_field, datum_field, default = spec.lng, spec.lat, spec.datum_field, spec.datum
        get_lng, get_lat = _getter(lng_field), _getter(lat_field)
        get_datum = _getter(datum_field) if datum_field else None
        held = [field for field in (lng_field, lat_field, datum_field) if field and "." in field]
        named = self._datum_names
        choices = " or ".join(sorted(set(spec.datum_names.values())))

        def read_datum(value: object) -> str:
            text = as_text(value)
            if text is None:
                return default
            datum_name = named.get(normalise_word(text.upper()))
            if datum_name is None:
                raise FieldProblem(f"unknown coordinate system {show(text)}; expected {choices}")
            return datum_name

        def read(reader: FieldReader) -> tuple[float, float] | None:
            record = reader.item
            if held:
                holder = _holder_problem(record, lng_field, lat_field, datum_field)
                if holder is not None:
                    reader.fail(*holder)
                    return None
            raw_lng, raw_lat = get_lng(record), get_lat(record)
            if raw_lng is None and raw_lat is None and get_datum is None:
                return None
            errors_before = len(reader.errors)
            lng = reader.read(lng_field, as_number, value=raw_lng, use_value=True)
            lat = reader.read(lat_field, as_number, value=raw_lat, use_value=True)
            datum: str = default
            if get_datum is not None and datum_field is not None:
                datum = reader.read(datum_field, read_datum, value=get_datum(record), use_value=True) or datum
            if len(reader.errors) > errors_before:
                return None
            place = reader.coordinates(lng_field, lat_field, lng, lat)
            if place is None or datum == "WGS-84":
                return place
            return gcj02_to_wgs84(*place) if datum == "GCJ-02" else bd09_to_wgs84(*place)

        return read

    def _title_parts(
        self,
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
                parts.append(_text_or_none(self._title_getters[part](masked)))
                # (a bad value is already named by the field's own reading, or not read at all)
        return parts


# --- the compiled readers -----------------------------------------------------------------------

# A reader takes the record (or its masked view) and the list of errors, and returns the clean value
# or None, appending a FieldError for a bad value (as FieldReader.read does).
_Read = Callable[[Mapping[str, Any], list[FieldError]], Any]


def _getter(field: str) -> Callable[[Mapping[str, Any]], Any]:
    """The field's value (as _get), the dotted name split once."""
    if "." not in field:
        return lambda record: record.get(field)
    parts = field.split(".")

    def get(record: Mapping[str, Any]) -> Any:
        if field in record:
            return record[field]
        value: Any = record
        for part in parts:
            if not isinstance(value, Mapping):
                return None
            value = value.get(part)
        return value

    return get


def _reader(field: str, convert: Callable[[Any], Any], *, required: bool = False) -> _Read:
    get = _getter(field)

    def read(record: Mapping[str, Any], errors: list[FieldError]) -> Any:
        try:
            result = convert(get(record))
        except FieldProblem as problem:
            errors.append(FieldError(field, problem.reason))
            return None
        if result is None and required:
            errors.append(FieldError(field, "required, but missing or empty"))
        return result

    return read


def _required(read: _Read, field: str) -> _Read:
    """The reader, with an empty value an error (a source that numbers its revisions numbers each)."""

    def read_required(record: Mapping[str, Any], errors: list[FieldError]) -> Any:
        errors_before = len(errors)
        value = read(record, errors)
        if value is None and len(errors) == errors_before:
            errors.append(FieldError(field, "required, but missing or empty (it tells this record's revisions apart)"))
        return value

    return read_required


def _text_reader(field: str, max_len: int | None) -> _Read:
    """as_text over the field, the common case (text that fits) without a call."""
    get = _getter(field)
    too_long = f"longer than {max_len} characters"

    def read(record: Mapping[str, Any], errors: list[FieldError]) -> str | None:
        value = get(record)
        if value is None:
            return None
        if type(value) is str:
            text: str | None = value.strip().strip(_INVISIBLE).strip() or None
        else:
            try:
                text = cell_text(value)
            except TypeError as exc:
                errors.append(FieldError(field, str(exc)))
                return None
        if text is not None and max_len is not None and len(text) > max_len:
            errors.append(FieldError(field, f"{too_long} ({len(text)})"))
            return None
        return text

    return read


def _iso_datetime(text: str) -> datetime | None:
    """The spellings most records use, ``2026-09-01 23:36:00`` (local) and ``2026-09-01T23:36:00+08:00``
    (with microseconds or Z too), read by datetime.fromisoformat; None for anything else and for
    anything as_datetime would refuse, which as_datetime then reads, or refuses in its words."""
    if not (
        len(text) >= 19 and text[4] == "-" and text[7] == "-" and text[10] in " T" and text[13] == ":"
        and text[16] == ":" and text.isascii()
    ):  # fmt: skip
        return None
    rest = text[19:]
    if rest[:1] == ".":
        if not rest[1:7].isdigit() or rest[7:8].isdigit():
            return None
        rest = rest[7:]
    offset = len(rest) == 6 and rest[0] in "+-" and rest[3] == ":" and rest[1:3] <= "14" and rest[4:6] <= "59"
    if rest and rest != "Z" and not offset:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(UTC)


def _code_converter(digits: int) -> Callable[[object], str | None]:
    return lambda value: as_code(value, digits)


def _list_reader(field: str, item: str) -> _Read:
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

    return _reader(field, convert)


def _storable_copy(record: Mapping[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    """storable_copy (service/feeds/adapters/base.py), flat text and numbers under plain names copied
    without a call."""
    copy: dict[str, Any] = {}
    for key, value in record.items():
        kind = type(value)
        if type(key) is not str or not key.isprintable():
            pass
        elif kind is str:
            if "\x00" not in value:
                if value.isascii():
                    copy[key] = value
                    continue
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    pass
                else:
                    copy[key] = value
                    continue
        elif value is None or kind is int or (kind is float and math.isfinite(value)):
            copy[key] = value
            continue
        try:
            copy[storable_name(key)] = storable_value(value)
        except FieldProblem as problem:
            errors.append(FieldError(printable_name(key), problem.reason))
    return copy


def _scrub(scrubbers: list[PhoneScrubber], text: str) -> str:
    for scrubber in scrubbers:
        text = scrubber(text)
    return text


def _may_need_scrubbing(scrubbers: list[PhoneScrubber], texts: list[str], *values: dict[str, Any]) -> bool:
    """Whether any scrubber could change any of these texts or values (PhoneScrubber changes a text only
    when its digits hold the number's, an integer only when its digits do, a float never): one test in C
    over all of them instead of one per value. A list or object inside is not looked into: True."""
    parts = list(texts)
    for mapping in values:
        for value in mapping.values():
            kind = type(value)
            if kind is str:
                parts.append(value)
            elif kind is int:
                parts.append(str(value))
            elif not (value is None or kind is float or kind is bool):
                return True
    digits = _NOT_DIGIT_OR_SEPARATOR.sub("", "\x01".join(parts))
    return any(scrubber.digits is not None and scrubber.digits in digits for scrubber in scrubbers)


_NOT_DIGIT_OR_SEPARATOR = re.compile(r"[^\d\x01]")


def _scrub_top_level(scrubbers: list[PhoneScrubber], values: dict[str, Any]) -> None:
    """PhoneScrubber.payload over a dict, in place, text and empty values handled without a call."""
    for key, value in values.items():
        if value is None or type(value) is float:
            continue
        if type(value) is str:
            if _PHONE_LIKE.search(value):
                values[key] = _scrub(scrubbers, value)
            continue
        for scrubber in scrubbers:
            value = scrubber.payload(value)
        values[key] = value


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
