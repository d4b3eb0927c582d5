"""HTTP for the pain points."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from service.deps import IncidentReaderDep, SessionDep
from service.errors import Unprocessable
from service.formats.fields import EARLIEST_YEAR, LATEST_YEAR
from service.kit.clock import SHANGHAI, utcnow
from service.painpoints.schemas import PainPoints
from service.painpoints.service import pain_points

router = APIRouter(tags=["painpoints"])

DEFAULT_DAYS = 30
MAX_DAYS = 366


@router.get("/painpoints", response_model=PainPoints)
async def get_pain_points(
    session: SessionDep,
    _caller: IncidentReaderDep,
    start: Annotated[
        date | None, Query(alias="from", description="first local day, YYYY-MM-DD (30 days before to)")
    ] = None,
    end: Annotated[date | None, Query(alias="to", description="last local day, YYYY-MM-DD (today)")] = None,
    community: Annotated[
        str | None, Query(min_length=1, max_length=100, description="居委: only this community")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=16, description="how many themes")] = 10,
) -> PainPoints:
    """The residents' themes ranked by hotline orders, visit needs and department problems in the period,
    each with the previous period of equal length and the communities most affected."""
    for name, day in (("from", start), ("to", end)):
        if day is not None and not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
            reason = f"{day} is outside {EARLIEST_YEAR}–{LATEST_YEAR}"
            raise Unprocessable(f"{name}: {reason}", [{"field": f"query.{name}", "reason": reason}])
    end = end or utcnow().astimezone(SHANGHAI).date()
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise Unprocessable(
            f"from ({start}) is after to ({end})", [{"field": "query.from", "reason": f"{start} is after to ({end})"}]
        )
    if (end - start).days + 1 > MAX_DAYS:
        days = (end - start).days + 1
        raise Unprocessable(
            f"the period is {days} days; at most {MAX_DAYS}",
            [{"field": "query.to", "reason": f"{days} days from from; at most {MAX_DAYS}"}],
        )
    return await pain_points(session, start, end, community, limit)
