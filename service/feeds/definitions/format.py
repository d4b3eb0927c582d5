"""The feed definition format: one TOML file per source, checked by these pydantic models.

Every model forbids unknown keys, so a misspelt key is named instead of silently ignored; every
check that needs more than a type says which key is wrong and why (see docs/adapters.md for the
format and a complete example).
"""

from __future__ import annotations

import re
import string
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from service.feeds.adapters import SOURCE_KEY
from service.feeds.definitions.hooks import HOOKS
from service.incidents.lifecycle import STATUSES
from service.vocabulary import CATEGORY_NAMES, Severity

_CATEGORY_LIST = ", ".join(CATEGORY_NAMES)

Datum = Literal["WGS-84", "GCJ-02", "BD-09"]
Transport = Literal["json", "csv", "xlsx"]
Encoding = Literal["utf-8", "gbk"]
ENCODING_OF_FILE: dict[str, Encoding] = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "gb18030": "gbk"}  # RowReader's
# How a personal field is kept: "phone" keeps the first 3 and last 4 digits (the one phone mask) and
# scrubs the number from every other text; "whole" replaces the value by ****; "drop" removes it.
PersonalMode = Literal["phone", "whole", "drop"]

# Special time formats: the flexible readers every built-in adapter uses.
FLEXIBLE_DATETIME = "datetime"  # YYYY-MM-DD HH:MM[:SS], / for -, T, fractions, Z or ±HH:MM
FLEXIBLE_DATE = "date"  # YYYY/MM/DD, YYYY-MM-DD, YYYY/M/D, 2026年9月1日, 20260901, spreadsheet dates
FLEXIBLE_FORMATS = (FLEXIBLE_DATETIME, FLEXIBLE_DATE)
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_PLACE_TOKENS = ("@category", "@status", "@place", "@site", "@name", "@address")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


FieldName = Annotated[str, Field(min_length=1, max_length=100)]


class TransportSpec(_Strict):
    """How records arrive: pushed JSON objects, export files, or both."""

    kinds: list[Transport] = Field(min_length=1)
    # The encodings a CSV may come in; absent: any the file reader reads (UTF-8, GBK/GB18030, UTF-16).
    encodings: list[Encoding] | None = Field(default=None, min_length=1)
    sheet: str | None = None  # the XLSX sheet to read; the first one when absent or missing
    # The columns a row may carry. When given, a row with a value in any other column is refused
    # naming it (a shifted or foreign export); when absent, other columns are kept but not read.
    columns: list[FieldName] | None = None

    @model_validator(mode="after")
    def _encodings_for_csv(self) -> TransportSpec:
        if self.encodings is not None and "csv" not in self.kinds:
            raise ValueError("encodings are the encodings of CSV files, and kinds has no 'csv'")
        return self


class RevisionSpec(_Strict):
    """How a resent record is told apart from the one stored: its content hash, or a field."""

    rule: Literal["content_hash", "field"] = "content_hash"
    field: FieldName | None = None

    @model_validator(mode="after")
    def _field_when_needed(self) -> RevisionSpec:
        if self.rule == "field" and not self.field:
            raise ValueError("rule 'field' needs field = the column that numbers the revisions")
        if self.rule == "content_hash" and self.field:
            raise ValueError("field is only used with rule = 'field'")
        return self


class RecordSpec(_Strict):
    id: FieldName
    revision: RevisionSpec = RevisionSpec()


class TimeSpec(_Strict):
    """A time field: the formats tried in order, and the time zone of a time without an offset."""

    field: FieldName
    formats: list[str] = Field(default_factory=lambda: [FLEXIBLE_DATETIME], min_length=1)
    timezone: str = "Asia/Shanghai"
    required: bool = True
    shown: str | None = None  # how errors name the format (default: the formats themselves)

    @field_validator("formats")
    @classmethod
    def _formats_parse(cls, formats: list[str]) -> list[str]:
        for fmt in formats:
            if fmt in FLEXIBLE_FORMATS:
                continue
            if "%Y" not in fmt or "%m" not in fmt or "%d" not in fmt:
                raise ValueError(
                    f"format {fmt!r} needs %Y, %m and %d (strptime codes), or is one of {', '.join(FLEXIBLE_FORMATS)}"
                )
            sample = datetime(2026, 11, 3, 14, 20, 5)
            try:
                datetime.strptime(sample.strftime(fmt), fmt)
            except ValueError as exc:
                raise ValueError(f"format {fmt!r} is not a usable strptime format ({exc})") from None
        return formats

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {zone!r} (use an IANA name such as 'Asia/Shanghai')") from None
        return zone

    @model_validator(mode="after")
    def _flexible_only_in_shanghai(self) -> TimeSpec:
        flexible = [fmt for fmt in self.formats if fmt in FLEXIBLE_FORMATS]
        if flexible and self.timezone != "Asia/Shanghai":
            raise ValueError(f"formats {flexible} read local times as Asia/Shanghai; use strptime formats instead")
        return self


class CoordinatesSpec(_Strict):
    """Longitude and latitude fields (a dotted name reads inside an object: location.lng) and their datum.

    ``datum_field`` names a field that says the datum per record (city ``location.crs``), its
    spellings mapped by ``datum_names``; ``datum`` is then the datum when that field is empty.
    """

    lng: FieldName
    lat: FieldName
    datum: Datum = "WGS-84"
    datum_field: FieldName | None = None
    datum_names: dict[str, Datum] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _names_with_field(self) -> CoordinatesSpec:
        if bool(self.datum_field) != bool(self.datum_names):
            raise ValueError("datum_field and datum_names go together: the field, and what each spelling means")
        return self


class WordsSpec(_Strict):
    """A field holding one word of a closed list, kept in extra as the list spells it."""

    field: FieldName
    values: list[str] = Field(min_length=1)


class ListSpec(_Strict):
    """A field holding a list of texts (photo URLs), kept in extra as a list."""

    field: FieldName
    item: str = Field(default="item", min_length=1, max_length=40)  # what errors call one: "photo URL"


class FieldsSpec(_Strict):
    """Where the service's fields are in the department's record."""

    name: FieldName | None = None
    legal_name: FieldName | None = None
    uscc: FieldName | None = None
    address: FieldName | None = None
    description: list[FieldName] = Field(default_factory=list)  # joined with a blank line
    time: TimeSpec
    deadline: TimeSpec | None = None
    coordinates: CoordinatesSpec | None = None
    extra: dict[str, FieldName] = Field(default_factory=dict)  # extra key → field, kept as text
    lists: dict[str, ListSpec] = Field(default_factory=dict)  # extra key → a field holding a list of texts
    words: dict[str, WordsSpec] = Field(default_factory=dict)  # extra key → a closed list of words
    dates: dict[str, FieldName] = Field(default_factory=dict)  # extra key → a date, kept as YYYY-MM-DD

    @field_validator("description", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class CategoryEntry(_Strict):
    """What one code or word means: a unified category, and optionally a label and a severity."""

    category: str
    label: str | None = None  # the department's name for the code (police 0401 → 火灾)
    severity: Severity | None = None  # overrides the severity rules for this code

    @model_validator(mode="before")
    @classmethod
    def _plain_category(cls, value: Any) -> Any:
        return {"category": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _known_category(self) -> CategoryEntry:
        if self.category not in CATEGORY_NAMES:
            raise ValueError(f"unknown category {self.category!r}; the unified categories are: {_CATEGORY_LIST}")
        return self


class KeywordRule(_Strict):
    words: list[str] = Field(min_length=1)
    category: str

    @field_validator("category")
    @classmethod
    def _known_category(cls, category: str) -> str:
        if category not in CATEGORY_NAMES:
            raise ValueError(f"unknown category {category!r}; the unified categories are: {_CATEGORY_LIST}")
        return category


class CategorySpec(_Strict):
    """The unified category: one for every record, a code table over a field, or keywords over text.

    ``fixed``: every record has this category. ``field`` + ``map``: the field's value (compared
    after NFKC with inner spaces removed; ``digits`` pads a number that lost its leading zeros)
    looked up in the table; ``label_field`` names a text field whose value is looked up among the
    table's labels when the code is missing (or, with ``label_when_unknown``, not in the table).
    ``keywords_over`` + ``keywords``: the first rule with a word found in the text. ``default``:
    the category when nothing matched; without it, an unknown or missing value is refused.
    """

    fixed: str | None = None
    field: FieldName | None = None
    name: str | None = None  # what errors call the field's values (报警类别代码); "value" when absent
    label_name: str | None = None  # what errors call the label field's values (报警类别)
    digits: int | None = Field(default=None, ge=1, le=12)
    map: dict[str, CategoryEntry] = Field(default_factory=dict)
    label_field: FieldName | None = None
    label_when_unknown: bool = False
    extra_key: str = "category_code"  # where extra keeps the code as the table spells it
    keywords_over: list[FieldName] = Field(default_factory=list)
    keywords: list[KeywordRule] = Field(default_factory=list)
    default: str | None = None

    @field_validator("keywords_over", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("fixed", "default")
    @classmethod
    def _known_category(cls, category: str | None) -> str | None:
        if category is not None and category not in CATEGORY_NAMES:
            raise ValueError(f"unknown category {category!r}; the unified categories are: {_CATEGORY_LIST}")
        return category

    @model_validator(mode="after")
    def _one_way(self) -> CategorySpec:
        ways = [name for name, on in (("fixed", self.fixed), ("field", self.field), ("keywords", self.keywords)) if on]
        if len(ways) != 1:
            raise ValueError("say exactly one of: fixed = '<category>', field = '<column>' with a map, or keywords")
        if self.field and not self.map:
            raise ValueError("field needs a map of its values to categories ([category.map])")
        if self.map and not self.field:
            raise ValueError("map needs field = the column whose values it maps")
        if self.keywords and not self.keywords_over:
            raise ValueError("keywords need keywords_over = the text field(s) they are searched in")
        if self.digits is not None:
            bad = [code for code in self.map if not (code.isdigit() and len(code) == self.digits)]
            if bad:
                raise ValueError(f"map codes must have {self.digits} digits (digits = {self.digits}): {bad[:5]}")
        if self.label_field and not any(entry.label for entry in self.map.values()):
            raise ValueError("label_field needs labels in the map ({category = ..., label = ...})")
        return self


class SeveritySpec(_Strict):
    """The severity: the category's base level, or what a field's value says, never below ``at_least``."""

    field: FieldName | None = None
    map: dict[str, Severity] = Field(default_factory=dict)
    at_least: Severity | None = None
    # A problem whose field holds one of these words is at least its category's base level
    # (market: a result of 不符合 raises 限期整改 on 消防安全 to high).
    raise_to_base: WordsSpec | None = None

    @model_validator(mode="after")
    def _map_with_field(self) -> SeveritySpec:
        if bool(self.field) != bool(self.map):
            raise ValueError("field and map go together: the field's words and the severity each one means")
        return self


class ProblemSpec(_Strict):
    """A record is a problem (it opens or joins an incident) unless ``field`` holds one of ``not_a_problem``."""

    field: FieldName
    not_a_problem: list[str] = Field(min_length=1)
    values: list[str] | None = None  # the closed list of words the field may hold; others are refused

    @model_validator(mode="after")
    def _listed(self) -> ProblemSpec:
        if self.values is not None:
            missing = [word for word in self.not_a_problem if word not in self.values]
            if missing:
                raise ValueError(f"not_a_problem words {missing} are not among values")
        return self


REPLY_STATUSES = ("closed", "rejected")  # the two ends that carry the operator's note
REPLY_FIELDS = ("note", "incident")


class StatusSpec(_Strict):
    """The department's own status words: the field they arrive in, and the word for each incident status."""

    field: FieldName
    required: bool = False
    words: list[str] | None = None  # the closed list; others are refused
    feedback: dict[str, str] = Field(default_factory=dict)  # incident status → the department's word
    # closed / rejected → the reply the department gets back when its incident ends that way (the 12345
    # hotline's 办结 reply): {note} is the operator's resolution note, {incident} the incident's number.
    reply: dict[str, Annotated[str, Field(min_length=1, max_length=500)]] = Field(default_factory=dict)

    @field_validator("feedback")
    @classmethod
    def _known_statuses(cls, feedback: dict[str, str]) -> dict[str, str]:
        unknown = [status for status in feedback if status not in STATUSES]
        if unknown:
            raise ValueError(f"unknown incident status {unknown[0]!r}; the statuses are: {', '.join(STATUSES)}")
        return feedback

    @field_validator("reply")
    @classmethod
    def _replies(cls, reply: dict[str, str]) -> dict[str, str]:
        for status, text in reply.items():
            if status not in REPLY_STATUSES:
                raise ValueError(f"a reply is for an incident that ends: {' or '.join(REPLY_STATUSES)}, not {status!r}")
            try:
                names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
            except ValueError as exc:
                raise ValueError(f"reply for {status}: {exc}") from None
            if names - set(REPLY_FIELDS):
                unknown = sorted(names - set(REPLY_FIELDS))[0]
                raise ValueError(f"reply for {status}: unknown field {{{unknown}}}; use {{note}} or {{incident}}")
        return reply

    def reply_for(self, status: str, note: str | None, incident_id: int) -> str | None:
        """The reply for an incident that ended with ``status``, or None when the definition has none."""
        text = self.reply.get(status)
        return text.format(note=note or "", incident=incident_id) if text is not None else None


class FeedDefinition(_Strict):
    """One department's feed, everything its adapter needs to know."""

    source: str
    name: str = Field(min_length=1, max_length=40)  # the department's Chinese name: 消防救援
    label: str = Field(min_length=1, max_length=8)  # the short label of badges: 消防
    colour: str  # #rrggbb, the department's colour on the wall
    version: int = Field(default=1, ge=1)
    transport: TransportSpec
    record: RecordSpec
    fields: FieldsSpec
    category: CategorySpec
    severity: SeveritySpec = SeveritySpec()
    problem: ProblemSpec | None = None  # absent: every record is a problem
    personal: dict[str, PersonalMode] = Field(default_factory=dict)
    status: StatusSpec | None = None
    title: list[str] = Field(default_factory=lambda: ["@category", "@place"])
    hooks: list[str] = Field(default_factory=list)  # named code hooks (service/feeds/definitions/hooks.py)

    @field_validator("source")
    @classmethod
    def _source_key(cls, source: str) -> str:
        if not SOURCE_KEY.fullmatch(source):
            raise ValueError(f"{source!r}: use 1–32 lowercase letters, digits or _, starting with a letter")
        return source

    @field_validator("colour")
    @classmethod
    def _colour(cls, colour: str) -> str:
        if not _COLOUR.fullmatch(colour):
            raise ValueError(f"{colour!r} is not a colour as #rrggbb")
        return colour.lower()

    @field_validator("hooks")
    @classmethod
    def _known_hooks(cls, hooks: list[str]) -> list[str]:
        unknown = [hook for hook in hooks if hook not in HOOKS]
        if unknown:
            raise ValueError(f"unknown hook {unknown[0]!r}; the hooks are: {', '.join(HOOKS) or 'none'}")
        return hooks

    @model_validator(mode="after")
    def _consistent(self) -> FeedDefinition:
        tokens = [part for part in self.title if part.startswith("@") and part not in _PLACE_TOKENS]
        if tokens:
            raise ValueError(f"title: unknown token {tokens[0]!r}; tokens are {', '.join(_PLACE_TOKENS)}")
        if self.transport.columns is not None:
            known = set(self.transport.columns)
            missing = [name for name in self.read_fields() if name.split(".")[0] not in known]
            if missing:
                raise ValueError(f"transport.columns lacks fields the definition reads: {', '.join(missing)}")
        return self

    def read_fields(self) -> list[str]:
        """Every field the definition reads, in the order it names them."""
        f = self.fields
        names: list[str | None] = [self.record.id, f.name, f.legal_name, f.uscc, f.address, *f.description]
        names += [f.time.field, f.deadline.field if f.deadline else None]
        names += [f.coordinates.lng, f.coordinates.lat] if f.coordinates else []
        names += list(f.extra.values()) + [spec.field for spec in f.lists.values()]
        names += [spec.field for spec in f.words.values()] + list(f.dates.values())
        names += [self.severity.raise_to_base.field] if self.severity.raise_to_base else []
        names += [f.coordinates.datum_field] if f.coordinates else []
        names += [self.category.field, self.category.label_field, *self.category.keywords_over]
        names += [self.severity.field, self.problem.field if self.problem else None]
        names += [self.status.field if self.status else None, self.record.revision.field]
        names += list(self.personal)
        return list(dict.fromkeys(name for name in names if name))

    def required_columns(self) -> tuple[str, ...]:
        """The columns without which no row of a file can be read: the id, the time, the category's field."""
        names = [self.record.id, self.fields.time.field if self.fields.time.required else None]
        if self.category.field and not self.category.default and not self.category.label_field:
            names.append(self.category.field)
        if self.status and self.status.required:
            names.append(self.status.field)
        return tuple(dict.fromkeys(name for name in names if name and "." not in name))
