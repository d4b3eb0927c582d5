"""Visit logs in: each visit checked, stored (a new one, a revision, or nothing for a resend), and
its urgent needs reported through the ordinary ingest path; visits out, for operators and admins."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.locks import lock_names
from service.feeds.adapters import visits as log
from service.feeds.parse import ItemResult
from service.feeds.personal import mask_field_errors, mask_personal_data
from service.feeds.schemas import IngestReport
from service.feeds.service import batch_items, report
from service.formats.fields import RecordRejected
from service.kit.canonical import canonical_json, sha256_hex
from service.kit.clock import utcnow
from service.state import AppState
from service.visits.models import Visit


async def ingest_visits(state: AppState, actor: str, payload: Any) -> IngestReport:
    """A push of one visit or an array of them: a result for each, in the order sent."""
    items = batch_items(payload, state.settings.max_batch_items, "visits")
    results: list[ItemResult] = []
    accepted: list[tuple[int, log.VisitRow]] = []
    seen: set[str] = set()
    for position, item in enumerate(items):
        try:
            visit = log.read_visit(item)
        except RecordRejected as exc:
            errors = [{"field": e.field, "reason": e.reason} for e in mask_field_errors(exc.errors)]
            results.append(ItemResult(position, exc.source_record_id, errors=errors))
            continue
        if visit.visit_id in seen:
            reason = "sent twice in this request: send each visit once"
            results.append(ItemResult(position, visit.visit_id, errors=[{"field": log.ID_FIELD, "reason": reason}]))
            continue
        seen.add(visit.visit_id)
        accepted.append((position, visit))

    # The urgent needs first, through the path every department's report takes (matching, placement,
    # the ledger, the live stream): a resend of them is "unchanged", so a visit stored after a failure
    # here is never reported twice.
    reports = [
        (visit.visit_id, mask_personal_data(r, id_field=log.ID_FIELD))
        for _, visit in accepted
        for r in log.urgent_reports(visit)
    ]
    stored = await state.ingest.submit(actor, [r for _, r in reports])
    incident_of: dict[str, int] = {}
    for (visit_id, _), outcome in zip(reports, stored, strict=True):
        if outcome.incident_id is not None:
            incident_of.setdefault(visit_id, outcome.incident_id)

    async with state.db.transaction() as uow:
        session = uow.session
        ids = [visit.visit_id for _, visit in accepted]
        await lock_names(session, [f"visit:{visit_id}" for visit_id in ids])  # two pushes of one visit
        existing = {
            v.visit_id: v for v in (await session.scalars(select(Visit).where(Visit.visit_id.in_(ids)))).all()
        } if ids else {}  # fmt: skip
        now = utcnow()
        for position, visit in accepted:
            values = visit.stored()
            content_hash = sha256_hex(canonical_json(values))
            row = existing.get(visit.visit_id)
            if row is None:
                row = Visit(
                    **_columns(visit), content_hash=content_hash, revision=1,
                    received_by=actor, received_at=now, updated_at=now,
                )  # fmt: skip
                session.add(row)
                status = "created"
            elif row.content_hash == content_hash:
                status = "unchanged"
            else:
                for name, value in _columns(visit).items():
                    setattr(row, name, value)
                row.content_hash = content_hash
                row.revision += 1
                row.received_by = actor
                row.updated_at = now
                status = "updated"
            await session.flush()
            results.append(ItemResult(position, visit.visit_id, status, row.id, None, incident_of.get(visit.visit_id)))
    results.sort(key=lambda r: r.position)
    for result in results:
        state.metrics.records.labels(log.SOURCE, result.status).inc()
    return report(results, by_line=False)


def _columns(visit: log.VisitRow) -> dict[str, Any]:
    values = dataclasses.asdict(visit)
    values.pop("extra")
    return values


async def list_visits(
    session: AsyncSession,
    *,
    community: str | None,
    since: date | None,
    until: date | None,
    urgent: bool | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Visit], int]:
    stmt = select(Visit)
    if community:
        stmt = stmt.where(Visit.community == community)
    if since is not None:
        stmt = stmt.where(Visit.visited_on >= since)
    if until is not None:
        stmt = stmt.where(Visit.visited_on <= until)
    rows = (await session.scalars(stmt.order_by(Visit.visited_on.desc(), Visit.id.desc()))).all()
    if urgent is not None:  # JSON lists: filtered here, the same on SQLite and PostgreSQL
        rows = [row for row in rows if bool(row.urgent_needs) == urgent]
    return rows[offset : offset + limit], len(rows)
