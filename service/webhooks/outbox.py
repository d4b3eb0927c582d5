"""Queueing status changes for the departments, in the same transaction as the change itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.db.database import UnitOfWork
from service.feeds.models import SourceRecord
from service.incidents.models import IncidentState
from service.kit.clock import utcnow
from service.ledger.service import LedgerEntry
from service.webhooks.models import OutboxMessage, Webhook

# The events a department hears about: its record's incident changed status, was dispatched, or
# took in another incident's reports (the merged incident's records have moved to the survivor).
NOTIFIED_EVENT_TYPES = frozenset({"status_changed", "assigned", "absorbed"})
# Counted on the session, so the delivery worker is woken after a commit that queued something.
ENQUEUED_KEY = "webhook_outbox_enqueued"


def enqueued_in(uow: UnitOfWork) -> int:
    """How many outbox messages this unit of work queued."""
    return int(uow.session.info.get(ENQUEUED_KEY, 0))


def incident_status(incident: IncidentState) -> dict[str, Any]:
    """The part of an incident a department hears about."""
    return {
        "id": incident.id,
        "status": incident.status,
        "category": incident.category,
        "assignee": incident.assignee,
        "due_at": incident.due_at.isoformat() if incident.due_at else None,
        "merged_into": incident.merged_into,
        "resolution_note": incident.resolution_note,
        "updated_at": incident.updated_at.isoformat(),
    }


def status_payload(
    status: dict[str, Any], event: LedgerEntry, source: str, source_record_ids: list[str]
) -> dict[str, Any]:
    """What a department receives: no personal data, no other department's records."""
    return {
        "delivery_id": f"{event.seq}-{source}",
        "event": event.type,
        "seq": event.seq,
        "at": event.at.isoformat(),
        "source": source,
        "source_record_ids": source_record_ids,
        "incident": status,
    }


def enqueue_status_change(uow: UnitOfWork, incident: IncidentState, event: LedgerEntry) -> None:
    """One outbox message per department with a webhook and a record in this incident.

    The incident's state is taken now, as the event leaves it; its records are looked up just before
    commit, once every record this transaction places has been written.
    """
    if event.type not in NOTIFIED_EVENT_TYPES:
        return
    status = incident_status(incident)
    uow.before_commit(lambda: _enqueue(uow, status, event))


async def _enqueue(uow: UnitOfWork, status: dict[str, Any], event: LedgerEntry) -> None:
    session = uow.session
    hooks = {w.source for w in (await session.scalars(select(Webhook).where(Webhook.active))).all()}
    if not hooks:
        return
    rows = await session.execute(
        select(SourceRecord.source, SourceRecord.source_record_id).where(
            SourceRecord.incident_id == status["id"], SourceRecord.source.in_(hooks)
        )
    )
    by_source: dict[str, list[str]] = {}
    for source, source_record_id in rows:
        by_source.setdefault(source, []).append(source_record_id)
    now = utcnow()
    for source, record_ids in sorted(by_source.items()):
        payload = status_payload(status, event, source, sorted(record_ids))
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
