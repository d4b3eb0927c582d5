"""Reading incidents: the filtered list and one incident with its records, events, notes and photos."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.incidents.lifecycle import OPEN_STATUSES, STATUSES
from service.incidents.models import Attachment, Incident, IncidentNote
from service.ledger.models import LedgerEvent
from service.records.models import SourceRecord

SORTABLE = {
    "last_reported_at": Incident.last_reported_at,
    "first_reported_at": Incident.first_reported_at,
    "due_at": Incident.due_at,
    "created_at": Incident.created_at,
    "updated_at": Incident.updated_at,
    "id": Incident.id,
    "report_count": Incident.report_count,
}


@dataclass
class IncidentFilter:
    statuses: list[str] | None = None  # "open" expands to every open status
    source: str | None = None
    category: str | None = None
    grid: str | None = None
    entity_id: str | None = None
    assignee: str | None = None
    overdue: bool | None = None


def assigned_to(assignee: str) -> Select[Any]:
    """The ids of the incidents assigned to one person (what an inspector may read)."""
    return select(Incident.id).where(Incident.assignee == assignee)


def expand_statuses(raw: str | None) -> list[str] | None:
    """'open', 'closed,rejected' → statuses; unknown names raise ValueError naming them."""
    if not raw:
        return None
    wanted: list[str] = []
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        if part == "open":
            wanted.extend(OPEN_STATUSES)
        elif part in STATUSES:
            wanted.append(part)
        else:
            raise ValueError(f"unknown status {part!r}; known: open, {', '.join(STATUSES)}")
    return wanted


async def list_incidents(
    session: AsyncSession, flt: IncidentFilter, sort: str, limit: int, offset: int
) -> tuple[Sequence[Incident], int]:
    stmt = select(Incident)
    if flt.statuses:
        stmt = stmt.where(Incident.status.in_(flt.statuses))
    if flt.source:
        stmt = stmt.where(Incident.id.in_(select(SourceRecord.incident_id).where(SourceRecord.source == flt.source)))
    if flt.category:
        stmt = stmt.where(Incident.category == flt.category)
    if flt.grid:
        stmt = stmt.where(Incident.grid == flt.grid)
    if flt.entity_id:
        stmt = stmt.where(Incident.entity_id == flt.entity_id)
    if flt.assignee:
        stmt = stmt.where(Incident.assignee == flt.assignee)
    if flt.overdue is not None:
        stmt = stmt.where(Incident.overdue.is_(flt.overdue))
    total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    column = SORTABLE[sort.lstrip("-")]
    # Incidents without the value (no deadline) go last either way, on SQLite as on PostgreSQL.
    order = (column.desc() if sort.startswith("-") else column.asc()).nulls_last()
    tie_break = Incident.id.desc() if sort.startswith("-") else Incident.id.asc()
    rows = (await session.scalars(stmt.order_by(order, tie_break).limit(limit).offset(offset))).all()
    return rows, total


async def count_overdue(session: AsyncSession) -> int:
    """Open incidents past their deadline."""
    stmt = select(func.count()).where(Incident.status.in_(OPEN_STATUSES), Incident.overdue.is_(True))
    return await session.scalar(stmt) or 0


async def incident_parts(
    session: AsyncSession, incident_id: int
) -> tuple[Sequence[SourceRecord], Sequence[LedgerEvent], Sequence[IncidentNote], Sequence[Attachment]]:
    records = (
        await session.scalars(
            select(SourceRecord).where(SourceRecord.incident_id == incident_id).order_by(SourceRecord.occurred_at)
        )
    ).all()
    events = (
        await session.scalars(
            select(LedgerEvent).where(LedgerEvent.incident_id == incident_id).order_by(LedgerEvent.seq)
        )
    ).all()
    notes = (
        await session.scalars(
            select(IncidentNote).where(IncidentNote.incident_id == incident_id).order_by(IncidentNote.id)
        )
    ).all()
    attachments = (
        await session.scalars(select(Attachment).where(Attachment.incident_id == incident_id).order_by(Attachment.id))
    ).all()
    return records, events, notes, attachments
