"""HTTP for the visit log: the log's system pushes visits; operators and admins read them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from service.deps import CallerDep, OperatorDep, PageLimit, PageOffset, SessionDep, StateDep
from service.errors import Forbidden, Unprocessable
from service.feeds.adapters import visits as log
from service.feeds.router import PUSH_BODY_SCHEMA, read_push
from service.feeds.schemas import IngestReport
from service.visits.schemas import VisitList, VisitOut
from service.visits.service import ingest_visits, list_visits
from service.vocabulary import Role

router = APIRouter(tags=["visits"])


# Registered before the feeds' routes: this path is the visit log's, not the generic /feeds/{source}/records.
@router.post(f"/feeds/{log.SOURCE}/records", response_model=IngestReport, openapi_extra=PUSH_BODY_SCHEMA)
async def push_visits(request: Request, response: Response, state: StateDep, caller: CallerDep) -> IngestReport:
    """One visit, or an array of up to 1,000 (docs/adapters.md, "Visit logs"); a result for each. Only
    the visit log's department key may push. A need marked 急 opens or joins an incident; the visit
    itself stays in the visit log."""
    if not (caller.role == Role.DEPARTMENT and caller.source == log.SOURCE):
        raise Forbidden(f"this key may not send records for {log.SOURCE!r}")
    payload = await read_push(state, caller, request, response, "send the visits as application/json")
    return await ingest_visits(state, caller.actor, payload)


@router.get("/visits", response_model=VisitList)
async def get_visits(
    session: SessionDep,
    _caller: OperatorDep,
    community: Annotated[str | None, Query(max_length=100, description="居委")] = None,
    since: Annotated[date | None, Query(alias="from", description="first day, YYYY-MM-DD")] = None,
    until: Annotated[date | None, Query(alias="to", description="last day, YYYY-MM-DD")] = None,
    urgent: Annotated[
        bool | None, Query(description="only visits with (true) or without (false) a need marked 急")
    ] = None,
    limit: PageLimit = 50,
    offset: PageOffset = 0,
) -> VisitList:
    """The visit log, newest visit first. Personal data: operators and admins only; the contact's
    name and phone are masked."""
    if since is not None and until is not None and since > until:
        raise Unprocessable("from is after to", [{"field": "query.from", "reason": f"{since} is after to ({until})"}])
    rows, total = await list_visits(
        session, community=community, since=since, until=until, urgent=urgent, limit=limit, offset=offset
    )
    return VisitList(items=[VisitOut.model_validate(row) for row in rows], total=total)
