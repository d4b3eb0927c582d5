"""Queueing status changes for the departments, in the same transaction as the change itself.

The outbox reads the ledger events a transaction appended, as the live hub does after commit;
no incident code calls it (it is a Database.before_commit hook, set in service/bootstrap.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.db.database import UnitOfWork
from service.kit.clock import utcnow
from service.ledger.service import LedgerEntry, new_events
from service.records.models import SourceRecord
from service.webhooks.models import OutboxMessage, Webhook

# The events a department hears about: its record's incident changed status, was dispatched, or
# took in another incident's reports (the merged incident's records have moved to the survivor).
NOTIFIED_EVENT_TYPES = frozenset({"status_changed", "assigned", "absorbed"})
# Counted on the session, so the delivery worker is woken after a commit that queued something.
ENQUEUED_KEY = "webhook_outbox_enqueued"


def enqueued_in(uow: UnitOfWork) -> int:
    """How many outbox messages this unit of work queued."""
    return int(uow.session.info.get(ENQUEUED_KEY, 0))


# The part of an incident a department hears about, taken from the state the event left it in.
STATUS_FIELDS = ("id", "status", "category", "assignee", "due_at", "merged_into", "resolution_note", "updated_at")


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


async def queue_status_changes(uow: UnitOfWork) -> None:
    """A Database.before_commit hook: one outbox message per department with a webhook and a record
    in the incident, for each status change this transaction appended to the ledger.

    It runs once every record the transaction places has been written, so the departments to tell
    are those whose records the incident holds as the transaction commits.
    """
    events = [event for event in new_events(uow) if event.type in NOTIFIED_EVENT_TYPES and event.incident]
    if not events:
        return
    session = uow.session
    hooks = {w.source for w in (await session.scalars(select(Webhook).where(Webhook.active))).all()}
    if not hooks:
        return
    incident_ids = {event.incident_id for event in events}
    rows = await session.execute(
        select(SourceRecord.incident_id, SourceRecord.source, SourceRecord.source_record_id).where(
            SourceRecord.incident_id.in_(incident_ids), SourceRecord.source.in_(hooks)
        )
    )
    by_incident: dict[int, dict[str, list[str]]] = {}
    for incident_id, source, source_record_id in rows:
        assert incident_id is not None  # selected by it
        by_incident.setdefault(incident_id, {}).setdefault(source, []).append(source_record_id)
    now = utcnow()
    queued = 0
    for event in events:
        assert event.incident is not None and event.incident_id is not None
        status = {name: event.incident[name] for name in STATUS_FIELDS}
        for source, record_ids in sorted(by_incident.get(event.incident_id, {}).items()):
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
            queued += 1
    session.info[ENQUEUED_KEY] = session.info.get(ENQUEUED_KEY, 0) + queued
