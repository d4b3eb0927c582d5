"""An incident's state as clients see it, and the one way an incident changes: with a ledger event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.db.database import UnitOfWork
from service.incidents.models import IncidentState
from service.kit.clock import utcnow
from service.ledger.service import AppendedEvent, append_event
from service.vocabulary import CATEGORY_NAMES


def incident_as_dict(incident: IncidentState) -> dict[str, Any]:
    return {
        "id": incident.id,
        "category": incident.category,
        "category_name": CATEGORY_NAMES.get(incident.category, incident.category),
        "severity": incident.severity,
        "status": incident.status,
        "entity_id": incident.entity_id,
        "entity_name": incident.entity_name,
        "title": incident.title,
        "address": incident.address,
        "lat": incident.lat,
        "lng": incident.lng,
        "grid": incident.grid,
        "sources": list(incident.sources or []),
        "report_count": incident.report_count,
        "first_reported_at": incident.first_reported_at.isoformat(),
        "last_reported_at": incident.last_reported_at.isoformat(),
        "assignee": incident.assignee,
        "due_at": incident.due_at.isoformat() if incident.due_at else None,
        "overdue": incident.overdue,
        "version": incident.version,
        "merged_into": incident.merged_into,
        "resolution_note": incident.resolution_note,
        "created_at": incident.created_at.isoformat(),
        "updated_at": incident.updated_at.isoformat(),
    }


async def record_change(
    uow: UnitOfWork,
    incident: IncidentState,
    type: str,
    actor: str,
    data: dict[str, Any],
    at: datetime | None = None,
) -> AppendedEvent:
    """Bump the incident's version and write the event with the state it leads to, in this transaction
    (departments with a webhook hear of it through the outbox, which reads the new events at commit)."""
    incident.version = (incident.version or 0) + 1
    incident.updated_at = at or utcnow()
    if incident.id is None:
        await uow.session.flush()
    event = await append_event(
        uow, type=type, actor=actor, incident_id=incident.id, data=data, incident=incident_as_dict(incident), at=at
    )
    return event
