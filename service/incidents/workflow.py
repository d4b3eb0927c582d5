"""The incident lifecycle as operators and inspectors drive it: status, assignment, notes, photos, merging."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from service.auth.models import Principal
from service.auth.service import Caller
from service.db.database import UnitOfWork
from service.errors import Conflict, Forbidden, NotFound, PayloadTooLarge, Unprocessable, UnsupportedMediaType
from service.incidents import lifecycle
from service.incidents.models import Attachment, Incident, IncidentNote
from service.incidents.placement import PlacementRules, Placer
from service.incidents.projection import incident_as_dict, record_change
from service.incidents.sla import is_overdue
from service.kit.clock import utcnow
from service.ledger.service import lock_ledger

OPERATOR_ROLES = frozenset({"operator", "admin"})


def may_act_on(caller: Caller, incident: Incident) -> bool:
    """Operators act on every incident; an inspector only on those assigned to them."""
    return caller.role in OPERATOR_ROLES or (caller.role == "inspector" and incident.assignee == caller.name)


async def _load_for_change(uow: UnitOfWork, incident_id: int, caller: Caller, expected_version: int | None) -> Incident:
    await lock_ledger(uow)  # decide and record under the same lock as every other writer
    incident = await uow.session.get(Incident, incident_id, populate_existing=True)
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
    uow: UnitOfWork, incident_id: int, caller: Caller, target: str, note: str | None, expected_version: int
) -> Incident:
    """Move an incident along its lifecycle (DESIGN.md §4)."""
    incident = await _load_for_change(uow, incident_id, caller, expected_version)
    if target == lifecycle.MERGED:
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
    previous, now = incident.status, utcnow()
    incident.status = target
    if target in (lifecycle.RESOLVED, lifecycle.CLOSED, lifecycle.REJECTED):
        incident.resolved_at = incident.resolved_at or now
    if target in (lifecycle.CLOSED, lifecycle.REJECTED):
        incident.resolution_note = note
    if previous == lifecycle.RESOLVED and target == lifecycle.IN_PROGRESS:
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
    if person is None or person.role not in ("inspector", "operator"):
        raise Unprocessable(
            f"no active inspector or operator named {assignee!r}",
            [{"field": "assignee", "reason": "unknown user"}],
        )
    previous_status = incident.status
    incident.assignee = assignee
    if incident.status == lifecycle.NEW:
        incident.status = lifecycle.DISPATCHED
    await record_change(
        uow,
        incident,
        "assigned",
        caller.actor,
        {"assignee": assignee, "from": previous_status, "to": incident.status},
    )
    return incident


async def add_note(uow: UnitOfWork, incident_id: int, caller: Caller, text: str) -> Incident:
    incident = await _load_for_change(uow, incident_id, caller, None)
    uow.session.add(IncidentNote(incident_id=incident.id, author=caller.name, text=text, created_at=utcnow()))
    await record_change(uow, incident, "note_added", caller.actor, {"text": text})
    return incident


@dataclass(frozen=True)
class ImageKind:
    content_type: str
    extension: str


def sniff_image(data: bytes) -> ImageKind | None:
    """JPEG, PNG or WebP, told by the bytes themselves, not by the name or the declared type."""
    if data[:3] == b"\xff\xd8\xff":
        return ImageKind("image/jpeg", "jpg")
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return ImageKind("image/png", "png")
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ImageKind("image/webp", "webp")
    return None


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
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"photos are limited to {max_bytes // (1024 * 1024)} MB")
    kind = sniff_image(data)
    if kind is None:
        raise UnsupportedMediaType(
            "only JPEG, PNG or WebP photos are accepted (checked by content)",
            [{"field": "file", "reason": "not a JPEG, PNG or WebP image"}],
        )
    incident = await _load_for_change(uow, incident_id, caller, None)
    digest = hashlib.sha256(data).hexdigest()
    relative = Path(str(incident.id)) / f"{digest}.{kind.extension}"
    target = directory / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        partial = target.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(target)  # never a half-written photo under the final name
    attachment = Attachment(
        incident_id=incident.id,
        filename=Path(filename).name[:255] or relative.name,
        content_type=kind.content_type,
        size=len(data),
        sha256=digest,
        storage_path=str(relative),
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


async def merge_incidents(
    uow: UnitOfWork, incident_id: int, into_id: int, caller: Caller, rules: PlacementRules
) -> Incident:
    """Move this incident's reports into another; this one ends as merged, pointing at the survivor."""
    if incident_id == into_id:
        raise Unprocessable("an incident cannot be merged into itself", [{"field": "into", "reason": "same incident"}])
    source = await _load_for_change(uow, incident_id, caller, None)
    target = await uow.session.get(Incident, into_id, populate_existing=True)
    if target is None:
        raise Unprocessable(f"no incident {into_id}", [{"field": "into", "reason": "not found"}])
    for incident in (source, target):
        if not lifecycle.is_open(incident.status):
            raise Unprocessable(
                f"incident {incident.id} is {incident.status}; only open incidents merge",
                [{"field": "into" if incident is target else "id", "reason": "not open"}],
            )
    await Placer(uow, rules, caller.actor).merge(source, target, reason=f"merged by {caller.name}")
    return target


async def escalate_overdue(uow: UnitOfWork, now: datetime | None = None) -> int:
    """Mark open incidents past their deadline as overdue, each with an escalated event."""
    now = now or utcnow()
    overdue_open = (
        Incident.status.in_(lifecycle.OPEN_STATUSES),
        Incident.overdue.is_(False),
        Incident.due_at.is_not(None),
        Incident.due_at < now,
    )
    if await uow.session.scalar(select(Incident.id).where(*overdue_open).limit(1)) is None:
        return 0  # the usual case: nothing due, so no need to wait for the ledger lock
    await lock_ledger(uow)
    due = (
        await uow.session.scalars(
            select(Incident)
            .where(*overdue_open)
            .order_by(Incident.due_at)
            .limit(500)
            .execution_options(populate_existing=True)
        )
    ).all()
    for incident in due:
        if incident.due_at is not None and is_overdue(incident.due_at, now):
            incident.overdue = True
            overdue_by = int((now - incident.due_at).total_seconds())
            await record_change(
                uow,
                incident,
                "escalated",
                "system:sla",
                {"due_at": incident.due_at.isoformat(), "overdue_by_s": overdue_by},
            )
    return len(due)
