"""The figures the wall shows, computed from the incident projection."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.incidents.lifecycle import OPEN_STATUSES
from service.incidents.models import Incident
from service.kit.clock import SHANGHAI, local_today_start, utcnow
from service.vocabulary import Status

TREND_DAYS = 14
TOP_ENTITIES = 10
RECURRENCE_WINDOW = timedelta(days=90)


async def compute_stats(session: AsyncSession, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    today = local_today_start(now)
    trend_start = today - timedelta(days=TREND_DAYS - 1)

    open_rows = (
        await session.execute(
            select(Incident.category, Incident.sources, Incident.grid, Incident.overdue).where(
                Incident.status.in_(OPEN_STATUSES)
            )
        )
    ).all()
    by_category: Counter[str] = Counter(r.category.value for r in open_rows)  # JSON keys: plain str
    by_source: Counter[str] = Counter(s for r in open_rows for s in (r.sources or []))
    by_grid: Counter[str] = Counter(r.grid or "未分网格" for r in open_rows)

    recent = (
        await session.execute(
            select(Incident.first_reported_at, Incident.resolved_at, Incident.status).where(
                Incident.status != Status.MERGED,
                or_(Incident.first_reported_at >= trend_start, Incident.resolved_at >= trend_start),
            )
        )
    ).all()
    days = [(trend_start + timedelta(days=i)).astimezone(SHANGHAI).date().isoformat() for i in range(TREND_DAYS)]
    new_per_day: Counter[str] = Counter()
    resolved_per_day: Counter[str] = Counter()
    for row in recent:
        if row.first_reported_at >= trend_start:
            new_per_day[row.first_reported_at.astimezone(SHANGHAI).date().isoformat()] += 1
        if row.resolved_at is not None and row.resolved_at >= trend_start and row.status != Status.REJECTED:
            resolved_per_day[row.resolved_at.astimezone(SHANGHAI).date().isoformat()] += 1
    today_key = days[-1]

    top = (
        await session.execute(
            select(Incident.entity_id, Incident.entity_name, func.count().label("n"))
            .where(
                Incident.entity_id.is_not(None),
                Incident.status != Status.MERGED,
                Incident.first_reported_at >= now - RECURRENCE_WINDOW,
            )
            .group_by(Incident.entity_id, Incident.entity_name)
            .order_by(func.count().desc(), Incident.entity_id)
            .limit(TOP_ENTITIES)
        )
    ).all()

    return {
        "open": len(open_rows),
        "new_today": new_per_day[today_key],
        "resolved_today": resolved_per_day[today_key],
        "overdue": sum(1 for r in open_rows if r.overdue),
        "open_by_category": dict(by_category),
        "open_by_source": dict(by_source),
        "open_by_grid": dict(by_grid),
        "trend": [{"date": d, "new": new_per_day[d], "resolved": resolved_per_day[d]} for d in days],
        "top_entities": [{"entity_id": r.entity_id, "name": r.entity_name, "incident_count": r.n} for r in top],
        "as_of": now.isoformat(),
    }
