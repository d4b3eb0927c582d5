"""HTTP for incidents: list, one incident, and the workflow actions."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, UploadFile
from fastapi.responses import FileResponse

from service.auth.service import Caller
from service.deps import FieldDep, IncidentReaderDep, OperatorDep, PageLimit, PageOffset, SessionDep, StateDep
from service.errors import Forbidden, NotFound, Unprocessable
from service.incidents import queries, workflow
from service.incidents.models import Attachment, Incident
from service.incidents.photos import download_name
from service.incidents.projection import incident_as_dict
from service.incidents.schemas import (
    AssignIn,
    AttachmentOut,
    EventOut,
    IncidentDetail,
    IncidentList,
    IncidentOut,
    MergeIn,
    NoteIn,
    NoteOut,
    StatusIn,
)
from service.ledger.service import event_message
from service.records.service import records_out

router = APIRouter(tags=["incidents"])

IncidentId = Annotated[int, Path(ge=1, le=2**31 - 1)]
SortKey = Literal[
    "last_reported_at",
    "-last_reported_at",
    "first_reported_at",
    "-first_reported_at",
    "due_at",
    "-due_at",
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
    "id",
    "-id",
    "report_count",
    "-report_count",
]


def _visible_to(caller: Caller, incident: Incident) -> bool:
    return caller.assignee_scope is None or incident.assignee == caller.assignee_scope


async def incident_filter(
    status: Annotated[
        str | None, Query(max_length=200, description="comma-separated; 'open' = every open status")
    ] = None,
    source: Annotated[str | None, Query(max_length=32)] = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
    grid: Annotated[str | None, Query(max_length=64)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    assignee: Annotated[str | None, Query(max_length=64)] = None,
    overdue: bool | None = None,
) -> queries.IncidentFilter:
    """The incident list's filters, as query parameters (the list and its CSV export share them)."""
    try:
        statuses = queries.expand_statuses(status)
    except ValueError as exc:
        raise Unprocessable(str(exc), [{"field": "status", "reason": str(exc)}]) from None
    return queries.IncidentFilter(statuses, source, category, grid, entity_id, assignee, overdue)


IncidentFilterDep = Annotated[queries.IncidentFilter, Depends(incident_filter)]


@router.get("/incidents", response_model=IncidentList)
async def list_incidents(
    session: SessionDep,
    caller: IncidentReaderDep,
    flt: IncidentFilterDep,
    sort: SortKey = "-last_reported_at",
    limit: PageLimit = 50,
    offset: PageOffset = 0,
) -> IncidentList:
    """Incidents, filtered and sorted; an inspector sees only their own."""
    if caller.assignee_scope is not None:
        flt = dataclasses.replace(flt, assignee=caller.assignee_scope)
    rows, total = await queries.list_incidents(session, flt, sort, limit, offset)
    return IncidentList(items=[IncidentOut(**incident_as_dict(i)) for i in rows], total=total)


@router.get("/incidents/{incident_id}", response_model=IncidentDetail)
async def get_incident(incident_id: IncidentId, session: SessionDep, caller: IncidentReaderDep) -> IncidentDetail:
    """One incident with its records (free of personal data), events, notes and photos."""
    incident = await session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    if not _visible_to(caller, incident):
        raise Forbidden("inspectors see only the incidents assigned to them")
    records, events, notes, attachments = await queries.incident_parts(session, incident_id)
    return IncidentDetail(
        **incident_as_dict(incident),
        records=await records_out(session, records),
        events=[EventOut(**event_message(e)) for e in events],
        notes=[NoteOut(id=n.id, author=n.author, text=n.text, created_at=n.created_at.isoformat()) for n in notes],
        attachments=[_attachment_out(a) for a in attachments],
    )


@router.post("/incidents/{incident_id}/status", response_model=IncidentOut)
async def change_status(incident_id: IncidentId, body: StatusIn, state: StateDep, caller: FieldDep) -> IncidentOut:
    """Move along the lifecycle; 409 on a stale expected_version, 422 on a transition not allowed."""
    async with state.db.transaction() as uow:
        incident = await workflow.change_status(uow, incident_id, caller, body.status, body.note, body.expected_version)
    return IncidentOut(**incident_as_dict(incident))


@router.post("/incidents/{incident_id}/assign", response_model=IncidentOut)
async def assign(incident_id: IncidentId, body: AssignIn, state: StateDep, caller: OperatorDep) -> IncidentOut:
    async with state.db.transaction() as uow:
        incident = await workflow.assign(uow, incident_id, caller, body.assignee, body.expected_version)
    return IncidentOut(**incident_as_dict(incident))


@router.post("/incidents/{incident_id}/notes", response_model=IncidentOut, status_code=201)
async def add_note(incident_id: IncidentId, body: NoteIn, state: StateDep, caller: FieldDep) -> IncidentOut:
    async with state.db.transaction() as uow:
        incident = await workflow.add_note(uow, incident_id, caller, body.text)
    return IncidentOut(**incident_as_dict(incident))


@router.post("/incidents/{incident_id}/attachments", response_model=AttachmentOut, status_code=201)
async def add_attachment(incident_id: IncidentId, file: UploadFile, state: StateDep, caller: FieldDep) -> AttachmentOut:
    """A JPEG, PNG or WebP photo, at most 10 MB: 415 unless its bytes say so, 422 unless the whole file decodes."""
    limit = state.settings.max_attachment_bytes
    data = await file.read(limit + 1)  # one byte more than allowed is enough to refuse it (413)
    async with state.db.transaction() as uow:
        attachment = await workflow.add_attachment(
            uow,
            incident_id,
            caller,
            file.filename or "photo",
            data,
            state.settings.effective_attachments_dir,
            limit,
        )
    return _attachment_out(attachment)


@router.get("/incidents/{incident_id}/attachments/{attachment_id}", response_class=FileResponse)
async def get_attachment(
    incident_id: IncidentId,
    attachment_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: SessionDep,
    state: StateDep,
    caller: FieldDep,
) -> FileResponse:
    incident = await session.get(Incident, incident_id)
    attachment = await session.get(Attachment, attachment_id)
    if incident is None or attachment is None or attachment.incident_id != incident_id:
        raise NotFound(f"no attachment {attachment_id} on incident {incident_id}")
    if not _visible_to(caller, incident):
        raise Forbidden("inspectors see only the incidents assigned to them")
    stored = state.settings.effective_attachments_dir / attachment.storage_path
    if not stored.is_file():  # the directory was moved or cleaned: say so rather than fail mid-response
        raise NotFound(f"the file of attachment {attachment_id} is missing from the attachments directory")
    return FileResponse(
        stored,
        media_type=attachment.content_type,
        # Names stored by an older release may still hold a backslash path; none reaches the header.
        filename=download_name(attachment.filename, attachment.storage_path.rsplit("/", 1)[-1]),
    )


@router.post("/incidents/{incident_id}/merge", response_model=IncidentOut)
async def merge(incident_id: IncidentId, body: MergeIn, state: StateDep, caller: OperatorDep) -> IncidentOut:
    """Move this incident's reports into another; this one becomes merged and points to the survivor."""
    async with state.db.transaction() as uow:
        survivor = await workflow.merge_incidents(uow, incident_id, body.into, caller, state.placement_rules)
    return IncidentOut(**incident_as_dict(survivor))


def _attachment_out(a: Attachment) -> AttachmentOut:
    return AttachmentOut(
        id=a.id,
        filename=a.filename,
        content_type=a.content_type,
        size=a.size,
        uploaded_by=a.uploaded_by,
        uploaded_at=a.uploaded_at.isoformat(),
        url=f"/api/v1/incidents/{a.incident_id}/attachments/{a.id}",
    )
