"""Feed use cases: a department's push, a file import, the unlinked queue, linking by hand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import NotFound, PayloadTooLarge, Unprocessable, UnsupportedMediaType
from service.feeds.definitions.format import ENCODING_OF_FILE
from service.feeds.parse import Accepted, ItemResult, parse_in_slices
from service.feeds.schemas import IngestReport, IngestSummary, ItemResultOut
from service.feeds.store import Stored
from service.formats.files import PREFERRED_SHEETS, FileFormatError, read_rows
from service.records.models import SourceRecord
from service.state import AppState


def report(results: Sequence[ItemResult], by_line: bool, notes: list[str] | None = None) -> IngestReport:
    counts = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    for result in results:
        counts[result.status] += 1
    return IngestReport(
        results=[
            ItemResultOut(
                source_record_id=r.source_record_id,
                status=r.status,
                record_id=r.record_id,
                entity_id=r.entity_id,
                incident_id=r.incident_id,
                errors=r.errors,
                line=r.position if by_line else None,
                index=None if by_line else r.position,
            )
            for r in results
        ],
        summary=IngestSummary(read=len(results), **counts),
        notes=notes or [],
    )


def batch_items(payload: Any, limit: int, noun: str) -> list[Any]:
    """A push's items: one object, or an array of 1 to ``limit`` of them (``noun``: what they are)."""
    items = payload if isinstance(payload, list) else [payload]
    if len(items) > limit:
        raise PayloadTooLarge.naming("body", f"at most {limit} {noun} per request; this one has {len(items)}")
    if not items:
        raise Unprocessable("the array is empty", [{"field": "body", "reason": f"no {noun}"}])
    return items


async def ingest_push(state: AppState, source: str, actor: str, payload: Any) -> IngestReport:
    """A department's push: one record or an array of them."""
    items = batch_items(payload, state.settings.max_batch_items, "records")
    kinds = _kinds(state, source)
    if "json" not in kinds:
        reason = f"source {source!r} takes {_kinds_shown(kinds)}, not records pushed as JSON"
        raise UnsupportedMediaType(
            f"{reason}: upload its export to /api/v1/feeds/{source}/files (its definition's transport.kinds)",
            [{"field": "transport.kinds", "reason": reason, "allowed": list(kinds)}],
        )
    results, accepted = await parse_in_slices(state.adapters, source, list(enumerate(items)))
    results += _stored(accepted, await state.ingest.submit(actor, [a.record for a in accepted]))
    results.sort(key=lambda r: r.position)
    _count(state, source, results)
    return report(results, by_line=False)


async def ingest_file(
    state: AppState, source: str, actor: str, data: bytes, filename: str, content_type: str | None
) -> IngestReport:
    """A department's export file (CSV in GBK or UTF-8, or XLSX), every row accounted for."""
    adapter = state.adapters.get(source)
    kinds = _kinds(state, source)
    if not {"csv", "xlsx"} & set(kinds):
        reason = f"source {source!r} takes {_kinds_shown(kinds)}, not files"
        raise UnsupportedMediaType(
            f"{reason}: push its records to /api/v1/feeds/{source}/records (its definition's transport.kinds)",
            [{"field": "file", "reason": reason, "allowed": list(kinds)}],
        )
    try:
        rows = read_rows(
            data,
            filename,
            content_type,
            required_columns=getattr(adapter, "REQUIRED_COLUMNS", ()),
            preferred_sheets=getattr(adapter, "PREFERRED_SHEETS", None) or PREFERRED_SHEETS,
        )
    except FileFormatError as exc:
        details = [{"field": "file", "reason": str(exc)}]
        if exc.line_number:
            details[0]["line"] = str(exc.line_number)
        raise Unprocessable(f"the file cannot be read: {exc}", details) from None
    _check_transport(source, kinds, getattr(adapter, "TRANSPORT_ENCODINGS", None), rows.file_kind, rows.encoding)
    results, accepted = await parse_in_slices(state.adapters, source, list(rows))
    for problem in rows.malformed_rows:
        results.append(ItemResult(problem.line_number, None, errors=[{"field": "(row)", "reason": problem.reason}]))
    for chunk_start in range(0, len(accepted), state.settings.max_batch_items):
        chunk = accepted[chunk_start : chunk_start + state.settings.max_batch_items]
        results += _stored(chunk, await state.ingest.submit(actor, [a.record for a in chunk]))
    results.sort(key=lambda r: r.position)
    _count(state, source, results)
    notes = [f"{len(rows.blank_lines)} blank line(s) skipped: {rows.blank_lines[:20]}"] if rows.blank_lines else []
    return report(results, by_line=True, notes=notes)


ALL_KINDS = ("json", "csv", "xlsx")


def _kinds(state: AppState, source: str) -> tuple[str, ...]:
    """How the source's records may arrive (a definition's transport.kinds; a Python adapter: every way)."""
    return tuple(getattr(state.adapters.get(source), "TRANSPORT_KINDS", ALL_KINDS))


def _kinds_shown(kinds: Sequence[str]) -> str:
    files = [kind.upper() for kind in kinds if kind != "json"]
    shown = [f"{' or '.join(files)} files"] if files else []
    return " and ".join(shown + (["records pushed as JSON"] if "json" in kinds else []))


def _check_transport(
    source: str, kinds: Sequence[str], encodings: Sequence[str] | None, file_kind: str, encoding: str | None
) -> None:
    """A file of a kind, or a CSV in an encoding, the source's definition does not list is refused whole."""
    if file_kind not in kinds:
        reason = f"this is an {file_kind.upper()} file; source {source!r} takes {_kinds_shown(kinds)}"
        raise UnsupportedMediaType(
            f"{reason} (its definition's transport.kinds)",
            [{"field": "file", "reason": reason, "allowed": list(kinds)}],
        )
    named = ENCODING_OF_FILE.get(encoding or "", encoding)
    if file_kind == "csv" and encodings is not None and named not in encodings:
        reason = (
            f"the CSV is in {'GBK/GB18030' if named == 'gbk' else (named or '?').upper()}; source {source!r} "
            f"takes CSV in {' or '.join(e.upper() for e in encodings)} only (its definition's transport.encodings)"
        )
        raise Unprocessable(reason, [{"field": "file", "reason": reason, "allowed": list(encodings)}])


def _stored(accepted: Sequence[Accepted], outcomes: Sequence[Stored]) -> list[ItemResult]:
    return [
        ItemResult(a.position, a.record.source_record_id, o.status, o.record_id, o.entity_id, o.incident_id)
        for a, o in zip(accepted, outcomes, strict=True)
    ]


def _count(state: AppState, source: str, results: Sequence[ItemResult]) -> None:
    for result in results:
        state.metrics.records.labels(source, result.status).inc()


async def get_record_by_source_id(session: AsyncSession, source: str, source_record_id: str) -> SourceRecord:
    record = await session.scalar(
        select(SourceRecord).where(SourceRecord.source == source, SourceRecord.source_record_id == source_record_id)
    )
    if record is None:
        raise NotFound(f"no {source} record {source_record_id!r}")
    return record


@dataclass(frozen=True)
class RecordFilter:
    source: str | None = None
    source_record_id: str | None = None
    linked: bool | None = None  # False: the unlinked queue
    entity_id: str | None = None
    incident_id: int | None = None


async def list_records(
    session: AsyncSession, flt: RecordFilter, limit: int, offset: int
) -> tuple[Sequence[SourceRecord], int]:
    stmt = select(SourceRecord)
    if flt.source:
        stmt = stmt.where(SourceRecord.source == flt.source)
    if flt.source_record_id:
        stmt = stmt.where(SourceRecord.source_record_id == flt.source_record_id)
    if flt.linked is not None:
        stmt = stmt.where(SourceRecord.entity_id.is_not(None) if flt.linked else SourceRecord.entity_id.is_(None))
    if flt.entity_id:
        stmt = stmt.where(SourceRecord.entity_id == flt.entity_id)
    if flt.incident_id is not None:
        stmt = stmt.where(SourceRecord.incident_id == flt.incident_id)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = (
        await session.scalars(
            stmt.order_by(SourceRecord.received_at.desc(), SourceRecord.id.desc()).limit(limit).offset(offset)
        )
    ).all()
    return rows, total
