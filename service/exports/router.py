"""CSV exports for operators: incidents and records, with the list endpoints' filters.

Every cell goes through service/feeds/files.py write_csv, which neutralises text a spreadsheet
would run as a formula (=, +, -, @, tab, CR): department data is untrusted input.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from service.deps import OperatorDep, SessionDep
from service.errors import Unprocessable
from service.exports.rows import INCIDENT_COLUMNS, RECORD_COLUMNS, incident_row, record_row
from service.feeds import service as feeds_service
from service.feeds.files import write_csv
from service.incidents import queries

router = APIRouter(tags=["exports"])

MAX_EXPORT_ROWS = 50_000
Encoding = Literal["utf-8", "gb18030"]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "a CSV file"}
}


def _csv(data: bytes, filename: str, encoding: Encoding) -> Response:
    return Response(
        data,
        media_type=f"text/csv; charset={encoding}",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@router.get("/exports/incidents.csv", response_class=Response, responses=CSV_RESPONSE)
async def export_incidents(
    session: SessionDep,
    _caller: OperatorDep,
    status: Annotated[
        str | None, Query(max_length=200, description="comma-separated; 'open' = every open status")
    ] = None,
    source: Annotated[str | None, Query(max_length=32)] = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
    grid: Annotated[str | None, Query(max_length=64)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    assignee: Annotated[str | None, Query(max_length=64)] = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_EXPORT_ROWS)] = MAX_EXPORT_ROWS,
    encoding: Encoding = "utf-8",
) -> Response:
    """Incidents as CSV (UTF-8 with BOM, or GB18030 for old spreadsheets), oldest first."""
    try:
        statuses = queries.expand_statuses(status)
    except ValueError as exc:
        raise Unprocessable(str(exc), [{"field": "status", "reason": str(exc)}]) from None
    flt = queries.IncidentFilter(statuses, source, category, grid, entity_id, assignee, overdue)
    rows, _total = await queries.list_incidents(session, flt, "id", limit, 0)
    data = write_csv(
        (incident_row(i) for i in rows), INCIDENT_COLUMNS, encoding="utf-8-sig" if encoding == "utf-8" else encoding
    )
    return _csv(data, "incidents.csv", encoding)


@router.get("/exports/records.csv", response_class=Response, responses=CSV_RESPONSE)
async def export_records(
    session: SessionDep,
    _caller: OperatorDep,
    source: Annotated[str | None, Query(max_length=32)] = None,
    source_record_id: Annotated[str | None, Query(max_length=128)] = None,
    linked: bool | None = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    incident_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_EXPORT_ROWS)] = MAX_EXPORT_ROWS,
    encoding: Encoding = "utf-8",
) -> Response:
    """Department records as CSV: normalized fields and links, never the verbatim payload."""
    rows, _total = await feeds_service.list_records(
        session,
        source=source,
        source_record_id=source_record_id,
        linked=linked,
        entity_id=entity_id,
        incident_id=incident_id,
        limit=limit,
        offset=0,
    )
    data = write_csv(
        (record_row(r) for r in rows), RECORD_COLUMNS, encoding="utf-8-sig" if encoding == "utf-8" else encoding
    )
    return _csv(data, "records.csv", encoding)
