"""HTTP for department feeds and the records they bring."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, UploadFile

from service.auth.roles import OPERATOR_ROLES
from service.auth.service import Caller
from service.deps import CallerDep, OperatorDep, PageLimit, PageOffset, SessionDep, StateDep
from service.errors import Forbidden, NotFound, PayloadTooLarge, Unprocessable, UnsupportedMediaType
from service.feeds import service
from service.feeds.adapters import UnknownSourceError
from service.feeds.definitions.adapter import DefinitionAdapter
from service.feeds.linking import link_record_to_entity
from service.feeds.schemas import (
    IncidentStatusOut,
    IngestReport,
    LinkIn,
    RecordList,
    RecordStatusOut,
)
from service.formats.fields import show
from service.formats.json_body import is_json_media_type
from service.http import json_body
from service.incidents.models import Incident
from service.ratelimit import client_ip
from service.records.schemas import RecordOut
from service.records.service import records_out
from service.state import AppState
from service.vocabulary import Role

router = APIRouter(tags=["feeds"])

# A push of at least this many records ends its connection: the client's next request then opens a
# new one, which the least busy worker accepts first. Kept-alive connections otherwise stay with
# the worker that accepted them, and a department's batches could all land on one of several.
REBALANCE_AFTER_RECORDS = 100

SourcePath = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,31}$", description="police, market, city, …")]

PUSH_BODY_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"type": "object", "description": "one record in the source's native format"},
                        {"type": "array", "items": {"type": "object"}, "maxItems": 1000},
                    ]
                }
            }
        },
    }
}


async def _check_source(state: AppState, caller: Caller, source: str, operators_too: bool) -> None:
    await state.definitions.refresh()  # a definition changed on another worker (at most once a second)
    try:
        state.adapters.get(source)
    except UnknownSourceError:
        await state.definitions.refresh(force=True)  # installed a moment ago, perhaps on another worker
        try:
            state.adapters.get(source)
        except UnknownSourceError as exc:
            raise NotFound(str(exc)) from None
    if caller.role == Role.DEPARTMENT and caller.source == source:
        return
    if operators_too and caller.role in OPERATOR_ROLES:
        return
    raise Forbidden(f"this key has no access to {source!r}'s records")


async def read_push(state: AppState, caller: Caller, request: Request, response: Response, not_json: str) -> Any:
    """A department push's JSON body, counted against the ingest limits: the request per IP, then each
    of its records per key. ``not_json`` is the 415's message for a body of another media type."""
    limits = state.rate_limits
    await limits.hit(limits.ingest_per_ip, "ingest-ip", client_ip(request))
    if not is_json_media_type(request.headers.get("content-type", "")):
        raise UnsupportedMediaType(not_json)
    payload = json_body(request)  # read, and refused if it is not JSON, by the JSON guard every route shares
    if not isinstance(payload, dict | list):  # a bare string or number is no record, nor a batch of them
        reason = f"expected one record as a JSON object, or an array of them; got {show(payload)}"
        raise Unprocessable(f"body: {reason}", [{"field": "body", "reason": reason}])
    cost = len(payload) if isinstance(payload, list) and payload else 1
    await limits.hit(limits.ingest_per_key, "ingest-key", str(caller.principal_id), cost=cost)
    if isinstance(payload, list) and len(payload) >= REBALANCE_AFTER_RECORDS:
        response.headers["Connection"] = "close"
    return payload


@router.post("/feeds/{source}/records", response_model=IngestReport, openapi_extra=PUSH_BODY_SCHEMA)
async def push_records(
    source: SourcePath, request: Request, response: Response, state: StateDep, caller: CallerDep
) -> IngestReport:
    """One record, or an array of up to 1,000, in the source's native format; a result for each."""
    await _check_source(state, caller, source, operators_too=False)
    payload = await read_push(
        state, caller, request, response, "send the records as application/json (files go to /files)"
    )
    return await service.ingest_push(state, source, caller.actor, payload)


@router.post("/feeds/{source}/files", response_model=IngestReport)
async def upload_file(
    source: SourcePath, file: UploadFile, request: Request, state: StateDep, caller: CallerDep
) -> IngestReport:
    """A native export (CSV in GBK or UTF-8, or XLSX); a result for every row, with its line number."""
    await _check_source(state, caller, source, operators_too=True)
    limits = state.rate_limits
    await limits.hit(limits.ingest_per_ip, "ingest-ip", client_ip(request))
    await limits.hit(limits.ingest_per_key, "ingest-key", str(caller.principal_id))
    data = await file.read(state.settings.max_upload_bytes + 1)
    if len(data) > state.settings.max_upload_bytes:
        raise PayloadTooLarge.naming("file", f"files are limited to {state.settings.max_upload_bytes} bytes")
    return await service.ingest_file(state, source, caller.actor, data, file.filename or "", file.content_type)


# ":path": a department's ids may hold a "/" (the visit log's urgent needs do), sent as %2F or as is.
@router.get("/feeds/{source}/records/{source_record_id:path}", response_model=RecordStatusOut)
async def record_status(
    source: SourcePath,
    source_record_id: Annotated[str, Path(max_length=128)],
    state: StateDep,
    session: SessionDep,
    caller: CallerDep,
) -> RecordStatusOut:
    """Where a department's record stands: its incident's status (pull)."""
    await _check_source(state, caller, source, operators_too=True)
    record = await service.get_record_by_source_id(session, source, source_record_id)
    incident = await session.get(Incident, record.incident_id) if record.incident_id else None
    return RecordStatusOut(
        source=record.source,
        source_record_id=record.source_record_id,
        record_id=record.id,
        revision=record.revision,
        received_at=record.received_at,
        entity_id=record.entity_id,
        incident=IncidentStatusOut.model_validate(incident, from_attributes=True) if incident else None,
        department_status=_department_status(state, source, incident.status if incident else None),
        department_reply=_department_reply(state, source, incident),
    )


def _department_status(state: AppState, source: str, status: str | None) -> str | None:
    """The incident's status as the department's definition words it (status.feedback), if it does."""
    adapter = state.adapters.get(source)
    if status is None or not isinstance(adapter, DefinitionAdapter) or adapter.definition.status is None:
        return None
    return adapter.definition.status.feedback.get(status)


def _department_reply(state: AppState, source: str, incident: Incident | None) -> str | None:
    """The reply the department's definition words for an incident that ended (status.reply), if it does."""
    adapter = state.adapters.get(source)
    if incident is None or not isinstance(adapter, DefinitionAdapter) or adapter.definition.status is None:
        return None
    return adapter.definition.status.reply_for(incident.status, incident.resolution_note, incident.id)


async def record_filter(
    source: Annotated[str | None, Query(max_length=32)] = None,
    source_record_id: Annotated[str | None, Query(max_length=128)] = None,
    linked: bool | None = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    incident_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> service.RecordFilter:
    """The record list's filters, as query parameters (the list and its CSV export share them)."""
    return service.RecordFilter(source, source_record_id, linked, entity_id, incident_id)


RecordFilterDep = Annotated[service.RecordFilter, Depends(record_filter)]


@router.get("/records", response_model=RecordList)
async def list_records(
    session: SessionDep,
    _caller: OperatorDep,
    flt: RecordFilterDep,
    limit: PageLimit = 50,
    offset: PageOffset = 0,
) -> RecordList:
    """Records with their links; ``linked=false`` is the unlinked queue, with suggested candidates."""
    rows, total = await service.list_records(session, flt, limit, offset)
    return RecordList(items=await records_out(session, rows), total=total)


@router.post("/records/{record_id}/link", response_model=RecordOut)
async def link_record(
    record_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: LinkIn, state: StateDep, caller: OperatorDep
) -> RecordOut:
    """Link a waiting record to its entity; the name is learnt as an alias and merging runs again."""
    async with state.db.transaction() as uow:
        record, entity = await link_record_to_entity(
            uow, record_id, body.entity_id, caller.actor, state.placement_rules
        )
        out = (await records_out(uow.session, [record]))[0]
    state.resolver.remember(entity)
    return out
