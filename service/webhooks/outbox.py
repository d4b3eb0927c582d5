"""Queueing status changes for the departments, in the same transaction as the change itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.db.database import UnitOfWork
from service.feeds.models import SourceRecord
from service.incidents.models import Incident
from service.kit.clock import utcnow
from service.ledger.models import LedgerEvent
from service.webhooks.models import OutboxMessage, Webhook

# The events a department hears about: its record's incident changed status, was dispatched, or
# took in another incident's reports (the merged incident's records have moved to the survivor).
NOTIFIED_EVENT_TYPES = frozenset({"status_changed", "assigned", "absorbed"})
# Counted on the session, so the delivery worker is woken after a commit that queued something.
ENQUEUED_KEY = "webhook_outbox_enqueued"


def enqueued_in(uow: UnitOfWork) -> int:
    """How many outbox messages this unit of work queued."""
    return int(uow.session.info.get(ENQUEUED_KEY, 0))


def status_payload(incident: Incident, event: LedgerEvent, source: str, source_record_ids: list[str]) -> dict[str, Any]:
    """What a department receives: no personal data, no other department's records."""
    return {
        "delivery_id": f"{event.seq}-{source}",
        "event": event.type,
        "seq": event.seq,
        "at": event.at.isoformat(),
        "source": source,
        "source_record_ids": source_record_ids,
        "incident": {
            "id": incident.id,
            "status": incident.status,
            "category": incident.category,
            "assignee": incident.assignee,
            "due_at": incident.due_at.isoformat() if incident.due_at else None,
            "merged_into": incident.merged_into,
            "resolution_note": incident.resolution_note,
            "updated_at": incident.updated_at.isoformat(),
        },
    }


async def enqueue_status_change(uow: UnitOfWork, incident: Incident, event: LedgerEvent) -> int:
    """One outbox message per department with a webhook and a record in this incident."""
    if event.type not in NOTIFIED_EVENT_TYPES:
        return 0
    session = uow.session
    hooks = {w.source for w in (await session.scalars(select(Webhook).where(Webhook.active))).all()}
    if not hooks:
        return 0
    rows = await session.execute(
        select(SourceRecord.source, SourceRecord.source_record_id).where(
            SourceRecord.incident_id == incident.id, SourceRecord.source.in_(hooks)
        )
    )
    by_source: dict[str, list[str]] = {}
    for source, source_record_id in rows:
        by_source.setdefault(source, []).append(source_record_id)
    now = utcnow()
    for source, record_ids in sorted(by_source.items()):
        payload = status_payload(incident, event, source, sorted(record_ids))
        session.add(
            OutboxMessage(
                delivery_id=payload["delivery_id"],
                source=source,
                event_seq=event.seq,
                payload=payload,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    session.info[ENQUEUED_KEY] = session.info.get(ENQUEUED_KEY, 0) + len(by_source)
    return len(by_source)
