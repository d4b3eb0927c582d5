"""The dry run of a feed definition on a sample: how every row parses and links, writing nothing.

``community-brain feeds check DEFINITION.toml SAMPLE_FILE`` reads the sample the way the service
would (a JSON array, one object, JSON lines, or a CSV/XLSX export), runs the generic adapter and
the personal-data mask on each item, matches the record against the register (a register file,
or the database's, read only) and prints one line per row, then a summary.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from service.feeds.definitions.adapter import DefinitionAdapter
from service.feeds.definitions.format import ENCODING_OF_FILE, FeedDefinition
from service.feeds.normalized import NormalizedRecord
from service.feeds.personal import mask_field_errors, mask_personal_data
from service.formats.fields import FieldError, RecordRejected
from service.formats.files import FileFormatError, read_rows
from service.matching.contract import EntityRef, MatchQuery, MatchResult
from service.matching.matcher import EntityIndex
from service.matching.uscc import valid_uscc_or_none
from service.registry.csv_rows import REQUIRED_COLUMNS as REGISTRY_COLUMNS
from service.registry.csv_rows import RegistryRowRejected, parse_registry_row


@dataclass
class RowCheck:
    position: int  # the file's line, or the index in a JSON array
    source_record_id: str | None
    record: NormalizedRecord | None = None
    errors: list[FieldError] = field(default_factory=list)
    match: MatchResult | None = None


@dataclass
class SampleCheck:
    definition: FeedDefinition
    by_line: bool
    rows: list[RowCheck]
    notes: list[str]
    entities: dict[str, EntityRef] | None  # None: no register to link against

    @property
    def parsed(self) -> list[RowCheck]:
        return [row for row in self.rows if row.record is not None]


def read_sample(
    definition: FeedDefinition, data: bytes, filename: str
) -> tuple[list[tuple[int, Any]], list[str], bool]:
    """(position, item) pairs, notes about the file, and whether positions are line numbers.

    Raises FileFormatError when the sample cannot be read at all.
    """
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    kinds = definition.transport.kinds
    if filename.lower().endswith((".json", ".jsonl", ".ndjson")) or stripped[:1] in (b"[", b"{"):
        refused = [] if "json" in kinds else [_refused("records pushed as JSON", kinds)]
        return _json_items(stripped), refused, filename.lower().endswith((".jsonl", ".ndjson"))
    adapter_columns = definition.required_columns()
    rows = read_rows(
        data, filename, None, required_columns=adapter_columns,
        preferred_sheets=(definition.transport.sheet,) if definition.transport.sheet else ("检查记录",),
    )  # fmt: skip
    notes = [f"header on line {rows.header_line}; columns: {', '.join(rows.columns)}"]
    if rows.file_kind not in kinds:
        notes.append(_refused(f"{rows.file_kind.upper()} files", kinds))
    if rows.encoding:
        notes.append(f"encoding: {rows.encoding}")
        encodings = definition.transport.encodings
        if rows.file_kind == "csv" and encodings is not None and ENCODING_OF_FILE.get(rows.encoding) not in encodings:
            notes.append(
                f"transport.encodings: the service would refuse this file (a CSV in {rows.encoding}; "
                f"the definition lists {', '.join(encodings)})"
            )
    if rows.blank_lines:
        notes.append(f"{len(rows.blank_lines)} blank line(s) skipped: {rows.blank_lines[:20]}")
    notes += [f"line {problem.line_number}: {problem.reason}" for problem in rows.malformed_rows]
    return list(rows), notes, True


def _refused(what: str, kinds: Sequence[str]) -> str:
    return f"transport.kinds: the service would refuse {what} for this source (the definition lists {', '.join(kinds)})"


def _json_items(data: bytes) -> list[tuple[int, Any]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"pushed JSON must be UTF-8; byte {exc.start} is not") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
        items = []
        for number, line in lines:
            try:
                items.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise FileFormatError(f"line {number}: not valid JSON ({exc.msg})", line_number=number) from None
        return items
    return list(enumerate(value if isinstance(value, list) else [value]))


def register_from_file(data: bytes, filename: str) -> tuple[list[EntityRef], list[str]]:
    """The register's rows as the matcher sees them, and the rows it could not take."""
    refs: list[EntityRef] = []
    problems: list[str] = []
    for line, row in read_rows(data, filename, None, required_columns=REGISTRY_COLUMNS):
        try:
            entity = parse_registry_row(row)
        except RegistryRowRejected as rejected:
            problems.append(f"register line {line}: {rejected}")
            continue
        refs.append(
            EntityRef(
                id=entity.entity_id, name=entity.name, legal_name=entity.legal_name, aliases=tuple(entity.aliases),
                uscc=valid_uscc_or_none(entity.uscc), address=entity.address, lat=entity.lat, lng=entity.lng,
            )
        )  # fmt: skip
    return refs, problems


def check_sample(
    definition: FeedDefinition,
    items: Sequence[tuple[int, Any]],
    *,
    by_line: bool,
    register: Sequence[EntityRef] | None,
    notes: list[str] | None = None,
    now: datetime | None = None,
) -> SampleCheck:
    """Every item through the definition's adapter and the matcher; nothing is written anywhere."""
    adapter = DefinitionAdapter(definition)
    index = None
    if register is not None:
        index = EntityIndex()
        for ref in register:
            index.update(ref)
    rows: list[RowCheck] = []
    for position, item in items:
        if not isinstance(item, dict):
            rows.append(RowCheck(position, None, errors=[FieldError("(record)", "must be a JSON object")]))
            continue
        try:
            record = mask_personal_data(adapter.parse(item, now=now), id_field=adapter.ID_FIELD)
        except RecordRejected as rejected:
            raw_id = item.get(adapter.ID_FIELD)
            shown = rejected.source_record_id or (str(raw_id)[:128] if isinstance(raw_id, str | int) else None)
            rows.append(RowCheck(position, shown, errors=mask_field_errors(rejected.errors)))
            continue
        match = None
        if index is not None:
            match = index.match(
                MatchQuery(
                    name=record.name, address=record.address, uscc=valid_uscc_or_none(record.uscc),
                    lat=record.lat, lng=record.lng,
                )
            )  # fmt: skip
        rows.append(RowCheck(position, record.source_record_id, record=record, match=match))
    entities = {ref.id: ref for ref in register} if register is not None else None
    return SampleCheck(definition, by_line, rows, list(notes or []), entities)


def render_check(check: SampleCheck) -> str:
    """The report: one line per row, the file's notes, then a summary."""
    d = check.definition
    lines = [f"{d.source} · {d.name} ({d.label}) — dry run, nothing is written"]
    lines += [f"  note: {note}" for note in check.notes]
    where = "line" if check.by_line else "item"
    for row in check.rows:
        head = f"{where} {row.position}\t{row.source_record_id or '-'}\t"
        if row.record is None:
            reasons = "; ".join(f"{error.field}: {error.reason}" for error in row.errors)
            lines.append(head + f"REJECTED\t{reasons}")
            continue
        record = row.record
        opens = "problem: opens or joins an incident" if record.is_problem else "not a problem: kept in the file"
        when = record.occurred_at.isoformat().replace("+00:00", "Z")
        lines.append(
            head + f"ok\t{when}\t{record.category}/{record.severity}\t{opens}\t{_link(row, check.entities)}"
            f"\t{record.title}"
        )
    lines.append(_summary(check))
    return "\n".join(lines)


def _link(row: RowCheck, entities: dict[str, EntityRef] | None) -> str:
    if row.match is None or entities is None:
        return "link: (no register)"
    match = row.match
    if match.entity_id:
        return f"→ {match.entity_id} {entities[match.entity_id].name} ({match.method}, {match.score:.2f})"
    if match.candidates:
        best = match.candidates[0]
        return f"→ unlinked (best {best.entity_id} {entities[best.entity_id].name} {best.score:.2f})"
    return "→ unlinked (no candidate)"


def _summary(check: SampleCheck) -> str:
    parsed = check.parsed
    rejected = len(check.rows) - len(parsed)
    problems = sum(1 for row in parsed if row.record and row.record.is_problem)
    categories = Counter(row.record.category for row in parsed if row.record)
    severities = Counter(row.record.severity for row in parsed if row.record)
    bad_fields = Counter(error.field for row in check.rows for error in row.errors)
    lines = [
        "summary",
        f"  rows read {len(check.rows)}: parsed {len(parsed)}, rejected {rejected}",
        f"  problems (would open or join incidents) {problems}, not problems {len(parsed) - problems}",
        "  categories " + (", ".join(f"{name} {count}" for name, count in categories.most_common()) or "-"),
        "  severities " + (", ".join(f"{name} {count}" for name, count in severities.most_common()) or "-"),
    ]
    if check.entities is not None:
        linked = Counter(row.match.method for row in parsed if row.match and row.match.entity_id)
        lines.append(
            f"  linked {sum(linked.values())} ({', '.join(f'{m} {c}' for m, c in linked.most_common()) or '-'}),"
            f" unlinked {len(parsed) - sum(linked.values())}"
        )
    if bad_fields:
        by_field = ", ".join(f"{name} {count}" for name, count in bad_fields.most_common())
        lines.append(f"  rejections by field {by_field}")
    return "\n".join(lines)
