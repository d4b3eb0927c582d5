"""The incident lifecycle as operators and inspectors drive it: status, assignment, notes, photos, merging."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy import ColumnElement, exists, or_, select

from service.auth.models import Principal
from service.auth.roles import ASSIGNEE_ROLES, OPERATOR_ROLES
from service.auth.service import Caller
from service.db.database import UnitOfWork
from service.errors import Conflict, Forbidden, NotFound, PayloadTooLarge, Unprocessable
from service.incidents import lifecycle
from service.incidents.models import Attachment, Incident, IncidentNote
from service.incidents.photos import download_name, photo_kind
from service.incidents.placement import PlacementPass, PlacementRules
from service.incidents.projection import incident_as_dict, record_change
from service.kit.clock import utcnow
from service.kit.personal import mask_phone_numbers
from service.ledger.models import LedgerEvent
from service.ledger.service import lock_ledger
from service.records.models import SourceRecord
from service.vocabulary import Role, Status


def may_act_on(caller: Caller, incident: Incident) -> bool:
    """Operators act on every incident; an inspector only on those assigned to them."""
    return _may_act(caller, incident.assignee)


def _may_act(caller: Caller, assignee: str | None) -> bool:
    return caller.role in OPERATOR_ROLES or (caller.role == Role.INSPECTOR and assignee == caller.name)


async def _load_for_change(uow: UnitOfWork, incident_id: int, caller: Caller, expected_version: int | None) -> Incident:
    # The incident's row first, then the ledger: the order in which ingest takes them (it places
    # reports under row locks and takes the ledger lock at commit; see service/feeds/store.py).
    incident = await uow.session.get(Incident, incident_id, populate_existing=True, with_for_update=True)
    await lock_ledger(uow)  # decide and record in the order of every other writer
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    if not may_act_on(caller, incident):
        raise Forbidden("inspectors may change only the incidents assigned to them")
    if expected_version is not None and incident.version != expected_version:
        raise Conflict(
            f"incident {incident_id} is at version {incident.version}, not {expected_version}: reload it",
            [{"field": "expected_version", "reason": "stale", "current": incident_as_dict(incident)}],
        )
    return incident


async def change_status(
    uow: UnitOfWork, incident_id: int, caller: Caller, target: Status, note: str | None, expected_version: int
) -> Incident:
    """Move an incident along its lifecycle (docs/workflow.md §1)."""
    incident = await _load_for_change(uow, incident_id, caller, expected_version)
    if target == Status.MERGED:
        raise Unprocessable(
            "merging is done with POST /incidents/{id}/merge",
            [{"field": "status", "reason": "use the merge endpoint"}],
        )
    try:
        lifecycle.check_transition(incident.status, target, note)
    except lifecycle.TransitionNotAllowed as exc:
        allowed = list(exc.allowed)
        raise Unprocessable(
            f"{incident.status} → {target} is not allowed; allowed: {', '.join(allowed) or 'none'}",
            [{"field": "status", "reason": "transition not allowed", "allowed": allowed}],
        ) from None
    except lifecycle.NoteRequired:
        raise Unprocessable(
            f"a note is required to move to {target}",
            [{"field": "note", "reason": "required for this status"}],
        ) from None
    if caller.role == Role.INSPECTOR and (incident.status, target) not in lifecycle.INSPECTOR_TRANSITIONS:
        raise Forbidden(
            f"inspectors start their work and report it done; {incident.status} → {target} is the operators' call"
        )
    note = mask_phone_numbers(note) if note is not None else None  # into the ledger: no caller's number
    previous, now = incident.status, utcnow()
    incident.status = target
    if target in (Status.RESOLVED, Status.CLOSED, Status.REJECTED):
        incident.resolved_at = incident.resolved_at or now
    if target in (Status.CLOSED, Status.REJECTED):
        incident.resolution_note = note
    if previous == Status.RESOLVED and target == Status.IN_PROGRESS:
        incident.resolved_at = None  # reopened
    await record_change(uow, incident, "status_changed", caller.actor, {"from": previous, "to": target, "note": note})
    return incident


async def assign(
    uow: UnitOfWork, incident_id: int, caller: Caller, assignee: str, expected_version: int | None
) -> Incident:
    """Give an incident to an inspector; a new incident becomes dispatched."""
    incident = await _load_for_change(uow, incident_id, caller, expected_version)
    if not lifecycle.is_open(incident.status):
        raise Unprocessable(
            f"incident {incident_id} is {incident.status}; only open incidents are assigned",
            [{"field": "status", "reason": "not open"}],
        )
    person = await uow.session.scalar(
        select(Principal).where(Principal.name == assignee, Principal.kind == "user", Principal.active)
    )
    if person is None or person.role not in ASSIGNEE_ROLES:
        raise Unprocessable(
            f"no active inspector or operator named {assignee!r}",
            [{"field": "assignee", "reason": "unknown user"}],
        )
    previous_status, previous_assignee = incident.status, incident.assignee
    incident.assignee = assignee
    if incident.status == Status.NEW:
        incident.status = Status.DISPATCHED
    # previous_assignee lets the live stream tell that inspector the task left them (live/filters.py).
    await record_change(
        uow,
        incident,
        "assigned",
        caller.actor,
        {"assignee": assignee, "previous_assignee": previous_assignee, "from": previous_status, "to": incident.status},
    )
    return incident


async def add_note(uow: UnitOfWork, incident_id: int, caller: Caller, text: str) -> Incident:
    incident = await _load_for_change(uow, incident_id, caller, None)
    _refuse_if_finished(incident, "notes")
    text = mask_phone_numbers(text)  # into the ledger: no caller's number, however the inspector wrote it
    uow.session.add(IncidentNote(incident_id=incident.id, author=caller.name, text=text, created_at=utcnow()))
    await record_change(uow, incident, "note_added", caller.actor, {"text": text})
    return incident


async def add_attachment(
    uow: UnitOfWork,
    incident_id: int,
    caller: Caller,
    filename: str,
    data: bytes,
    directory: Path,
    max_bytes: int,
) -> Attachment:
    """Store a photo on disk and record it; the file name on disk is its content hash."""
    # Who may, before what: an inspector on someone else's incident hears 403 whatever the file.
    await _check_may_act(uow, incident_id, caller)
    if len(data) > max_bytes:
        limit = f"photos are limited to {max_bytes // (1024 * 1024)} MB"
        raise PayloadTooLarge(limit, [{"field": "file", "reason": f"{len(data)} bytes; {limit}"}])
    kind = await asyncio.to_thread(photo_kind, data)  # decodes every pixel: off the event loop
    digest = hashlib.sha256(data).hexdigest()
    relative = Path(str(incident_id)) / f"{digest}.{kind.extension}"
    # Written before the ledger lock is taken, so a slow disk never holds up other writers. A
    # rollback leaves the file behind; it is content-addressed, so a retry simply reuses it.
    await asyncio.to_thread(_store_file, directory / relative, data)
    incident = await _load_for_change(uow, incident_id, caller, None)
    _refuse_if_finished(incident, "photos")
    attachment = Attachment(
        incident_id=incident.id,
        filename=download_name(filename, relative.name),
        content_type=kind.content_type,
        size=len(data),
        sha256=digest,
        storage_path=relative.as_posix(),
        uploaded_by=caller.name,
        uploaded_at=utcnow(),
    )
    uow.session.add(attachment)
    await uow.session.flush()
    await record_change(
        uow,
        incident,
        "attachment_added",
        caller.actor,
        {
            "attachment_id": attachment.id,
            "filename": attachment.filename,
            "content_type": kind.content_type,
            "size": len(data),
            "sha256": digest,
        },
    )
    return attachment


async def _check_may_act(uow: UnitOfWork, incident_id: int, caller: Caller) -> None:
    """404 or 403 without taking the ledger lock (it is checked again under the lock)."""
    row = (await uow.session.execute(select(Incident.assignee).where(Incident.id == incident_id))).first()
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    if not _may_act(caller, row.assignee):
        raise Forbidden("inspectors may change only the incidents assigned to them")


def _refuse_if_finished(incident: Incident, what: str) -> None:
    """Closed, rejected and merged incidents are finished for good (docs/workflow.md §1)."""
    if not lifecycle.is_open(incident.status):
        raise Unprocessable(
            f"incident {incident.id} is {incident.status}: {what} go to open incidents only",
            [{"field": "status", "reason": "not open"}],
        )


def _store_file(target: Path, data: bytes) -> None:
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own per upload: two uploads of the same photo must not share a partial file.
    handle, partial = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(partial, target)  # never a half-written photo under the final name
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


async def merge_incidents(
    uow: UnitOfWork, incident_id: int, into_id: int, caller: Caller, rules: PlacementRules
) -> Incident:
    """Move this incident's reports into another; this one ends as merged, pointing at the survivor."""
    if incident_id == into_id:
        raise Unprocessable("an incident cannot be merged into itself", [{"field": "into", "reason": "same incident"}])
    # Locks in ingest's order (service/feeds/store.py): the reports this moves, both incidents, the ledger.
    both = sorted((incident_id, into_id))
    session = uow.session
    await session.execute(
        select(SourceRecord.id).where(SourceRecord.incident_id.in_(both)).order_by(SourceRecord.id).with_for_update()
    )
    await session.execute(select(Incident.id).where(Incident.id.in_(both)).order_by(Incident.id).with_for_update())
    source = await _load_for_change(uow, incident_id, caller, None)
    target = await session.get(Incident, into_id, populate_existing=True)
    if target is None:
        raise Unprocessable(f"no incident {into_id}", [{"field": "into", "reason": "not found"}])
    for incident in (source, target):
        if not lifecycle.is_open(incident.status):
            raise Unprocessable(
                f"incident {incident.id} is {incident.status}; only open incidents merge",
                [{"field": "into" if incident is target else "id", "reason": "not open"}],
            )
    placement = PlacementPass(uow, rules)
    await placement.load((), [source.id, target.id])
    await placement.merge(source.id, target.id, caller.actor, reason=f"merged by {caller.name}")
    await placement.write()
    await uow.session.refresh(source)  # placement wrote both rows itself
    await uow.session.refresh(target)
    return target


ESCALATION_BATCH = 500


def _needs_escalation(now: datetime) -> tuple[ColumnElement[bool], ...]:
    # An incident may already be overdue when it opens (a report that comes in late) or when a
    # merge hands it an earlier deadline; it is escalated all the same, once.
    escalated_before = exists().where(LedgerEvent.incident_id == Incident.id, LedgerEvent.type == "escalated")
    return (
        Incident.status.in_(lifecycle.OPEN_STATUSES),
        Incident.due_at.is_not(None),
        Incident.due_at < now,
        or_(Incident.overdue.is_(False), ~escalated_before),
    )


async def escalate_overdue(uow: UnitOfWork, now: datetime | None = None, limit: int = ESCALATION_BATCH) -> int:
    """Mark open incidents past their deadline as overdue, each with one escalated event.

    Returns how many were escalated; at most ``limit`` at a time (call again while it returns ``limit``).
    """
    now = now or utcnow()
    if await uow.session.scalar(select(Incident.id).where(*_needs_escalation(now)).limit(1)) is None:
        return 0  # the usual case: nothing due, so no need to wait for the ledger lock
    # Rows before the ledger, as every writer; an incident being placed right now is left for the next round.
    due = (
        await uow.session.scalars(
            select(Incident)
            .where(*_needs_escalation(now))
            .order_by(Incident.due_at, Incident.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
    ).all()
    if not due:
        return 0
    await lock_ledger(uow)
    for incident in due:
        assert incident.due_at is not None  # the query asks for it
        incident.overdue = True
        await record_change(
            uow,
            incident,
            "escalated",
            "system:sla",
            {"due_at": incident.due_at.isoformat(), "overdue_by_s": int((now - incident.due_at).total_seconds())},
        )
    return len(due)
