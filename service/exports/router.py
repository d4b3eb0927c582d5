"""CSV exports for operators: incidents and records, with the list endpoints' filters.

Every cell goes through service/feeds/files.py write_csv, which neutralises text a spreadsheet
would run as a formula (=, +, -, @, tab, CR): department data is untrusted input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from service.deps import OperatorDep, SessionDep
from service.exports.rows import INCIDENT_COLUMNS, RECORD_COLUMNS, incident_row, record_row
from service.feeds import service as feeds_service
from service.feeds.router import RecordFilterDep
from service.formats.files import write_csv
from service.incidents import queries
from service.incidents.router import IncidentFilterDep

router = APIRouter(tags=["exports"])

MAX_EXPORT_ROWS = 50_000
Encoding = Literal["utf-8", "gb18030"]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "a CSV file"}
}


def _csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], filename: str, encoding: Encoding) -> Response:
    data = write_csv(rows, columns, encoding="utf-8-sig" if encoding == "utf-8" else encoding)
    return Response(
        data,
        media_type=f"text/csv; charset={encoding}",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@router.get("/exports/incidents.csv", response_class=Response, responses=CSV_RESPONSE)
async def export_incidents(
    session: SessionDep,
    _caller: OperatorDep,
    flt: IncidentFilterDep,
    limit: Annotated[int, Query(ge=1, le=MAX_EXPORT_ROWS)] = MAX_EXPORT_ROWS,
    encoding: Encoding = "utf-8",
) -> Response:
    """Incidents as CSV (UTF-8 with BOM, or GB18030 for old spreadsheets), oldest first."""
    rows, _total = await queries.list_incidents(session, flt, "id", limit, 0)
    return _csv((incident_row(i) for i in rows), INCIDENT_COLUMNS, "incidents.csv", encoding)


@router.get("/exports/records.csv", response_class=Response, responses=CSV_RESPONSE)
async def export_records(
    session: SessionDep,
    _caller: OperatorDep,
    flt: RecordFilterDep,
    limit: Annotated[int, Query(ge=1, le=MAX_EXPORT_ROWS)] = MAX_EXPORT_ROWS,
    encoding: Encoding = "utf-8",
) -> Response:
    """Department records as CSV: normalized fields and links, never the verbatim payload."""
    rows, _total = await feeds_service.list_records(session, flt, limit, 0)
    return _csv((record_row(r) for r in rows), RECORD_COLUMNS, "records.csv", encoding)
