"""Ranking the residents' themes over a period (docs/residents.md, "Pain points").

Three kinds of evidence count, each once:
- a **hotline** work order: a record with a theme (source_records.theme, from the classifier);
- a **visit**: every need ticked in the visit log, under its need's theme (service/residents/needs.py);
- a **department's problem**: a problem record without a theme, under its category's theme
  (service/residents/themes.py, CATEGORY_THEMES).
The visit log's own urgent reports are not counted again: their visit is.

A record's community is its entity's 居委 in the register; for a record linked to no entity, a
community of the register named in its address (阳曲路760弄, 闻喜苑 …); otherwise 未知, said so
rather than guessed. A visit names its own.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.formats.fields import local_midnight_utc
from service.painpoints.schemas import CommunityCount, KindCounts, PainPoint, PainPoints, Period
from service.records.models import SourceRecord
from service.registry.models import Entity
from service.residents.needs import theme_of_need
from service.residents.themes import THEME_BY_KEY, THEME_KEYS, theme_of_category
from service.visits.models import Visit

UNKNOWN = "未知"
VISITS_SOURCE = "visits"
TOP_COMMUNITIES = 3
TOP_COMMUNITIES_OVERALL = 10


@dataclass(frozen=True, slots=True)
class Count:
    theme: str
    kind: str  # hotline | visits | departments
    community: str
    current: bool  # in the period asked for (else in the previous one)


async def pain_points(session: AsyncSession, start: date, end: date, community: str | None, limit: int) -> PainPoints:
    days = (end - start).days + 1
    previous_start, previous_end = start - timedelta(days=days), start - timedelta(days=1)
    counts = [
        c for c in await _counts(session, previous_start, start, end) if community is None or c.community == community
    ]

    current: Counter[str] = Counter()
    previous: Counter[str] = Counter()
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    places: dict[str, Counter[str]] = defaultdict(Counter)
    overall: Counter[str] = Counter()
    for count in counts:
        if not count.current:
            previous[count.theme] += 1
            continue
        current[count.theme] += 1
        kinds[count.theme][count.kind] += 1
        places[count.theme][count.community] += 1
        overall[count.community] += 1

    order = {key: index for index, key in enumerate(THEME_KEYS)}
    ranked = sorted(current, key=lambda theme: (-current[theme], -previous[theme], order.get(theme, len(order))))
    items = []
    for rank, theme in enumerate(ranked[:limit], start=1):
        now_n, then_n = current[theme], previous[theme]
        items.append(
            PainPoint(
                rank=rank,
                theme=theme,
                label=THEME_BY_KEY[theme].label if theme in THEME_BY_KEY else theme,
                count=now_n,
                previous_count=then_n,
                change=now_n - then_n,
                change_ratio=round((now_n - then_n) / then_n, 3) if then_n else None,
                trend="new" if not then_n else "up" if now_n > then_n else "down" if now_n < then_n else "flat",
                by_kind=KindCounts(**{kind: kinds[theme][kind] for kind in ("hotline", "visits", "departments")}),
                communities=_top(places[theme], TOP_COMMUNITIES),
            )
        )
    return PainPoints(
        period=Period(start=start, end=end),
        previous=Period(start=previous_start, end=previous_end),
        community=community,
        total=sum(current.values()),
        previous_total=sum(previous.values()),
        items=items,
        communities=_top(overall, TOP_COMMUNITIES_OVERALL),
        unknown_community=overall[UNKNOWN],
    )


def _top(counter: Counter[str], n: int) -> list[CommunityCount]:
    # 未知 is listed with the others (it is a count like them), named for what it is.
    ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0] == UNKNOWN, item[0]))
    return [CommunityCount(community=name, count=count) for name, count in ranked[:n]]


async def _counts(session: AsyncSession, previous_start: date, start: date, end: date) -> list[Count]:
    """Every count of both periods: [previous_start, start) is the previous one, [start, end] this one."""
    since, boundary, until = (local_midnight_utc(day) for day in (previous_start, start, end + timedelta(days=1)))
    communities = sorted(
        {c for c in (await session.scalars(select(Entity.community).distinct())).all() if c},
        key=len,
        reverse=True,  # the longest name first: 临汾路380弄 before a shorter one it contains
    )
    rows = (
        await session.execute(
            select(
                SourceRecord.theme,
                SourceRecord.category,
                SourceRecord.address,
                SourceRecord.occurred_at,
                Entity.community,
            )
            .outerjoin(Entity, Entity.id == SourceRecord.entity_id)
            .where(
                SourceRecord.is_problem.is_(True),
                SourceRecord.source != VISITS_SOURCE,
                SourceRecord.occurred_at >= since,
                SourceRecord.occurred_at < until,
            )
        )
    ).all()
    counts = [
        Count(
            theme=row.theme or theme_of_category(row.category),
            kind="hotline" if row.theme else "departments",
            community=row.community or _named_in(row.address, communities),
            current=row.occurred_at >= boundary,
        )
        for row in rows
    ]
    visits = (
        await session.execute(
            select(Visit.visited_on, Visit.community, Visit.needs).where(
                Visit.visited_on >= previous_start, Visit.visited_on <= end
            )
        )
    ).all()
    counts += [
        Count(theme_of_need(need), "visits", visit.community or UNKNOWN, visit.visited_on >= start)
        for visit in visits
        for need in visit.needs or []
    ]
    return counts


def _named_in(address: str | None, communities: list[str]) -> str:
    if address:
        for name in communities:
            if name in address:
                return name
    return UNKNOWN
