"""The demo's command centre works its problems through the real workflow, so the wall's 办结 figures move."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from service.demo.replay import DemoCommandCentre
from service.demo.samples import load_samples, retimed
from service.demo.setup import DEMO_INSPECTORS, DEMO_OPERATOR, RECENT_QUIET_HOURS, prepare_demo, work_through_history
from service.feeds.parse import parse_items
from service.incidents import lifecycle
from service.incidents.models import Incident
from service.kit.clock import utcnow
from service.ledger.models import LedgerEvent
from service.ledger.service import verify_ledger
from service.state import AppState
from service.stats.service import compute_stats
from service.vocabulary import Status

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def _report(state: AppState, ages: list[timedelta]) -> None:
    """One police call of the samples per age, that long ago (different calls, so mostly different problems)."""
    police = [s for s in load_samples() if s.source == "police"]
    now = utcnow()
    pairs = zip(police[: len(ages)], ages, strict=True)
    items = [(i, retimed(sample, now - age, f"-T{i}")) for i, (sample, age) in enumerate(pairs)]
    _, accepted = parse_items(state.adapters, "police", items)
    await state.ingest.submit("department:police", [a.record for a in accepted])


async def _statuses(state: AppState) -> Counter[str]:
    async with state.db.session() as session:
        rows = (await session.execute(select(Incident.status, func.count()).group_by(Incident.status))).all()
    return Counter({status: count for status, count in rows})


async def test_the_demo_inspectors_take_problems_from_new_to_closed(state: AppState) -> None:
    await prepare_demo(state, preload=False)
    await _report(state, [timedelta(minutes=10 + i) for i in range(6)])
    async with state.db.session() as session:
        head_before = await session.scalar(select(func.max(LedgerEvent.seq))) or 0
    assert (await _statuses(state))[Status.NEW] >= 4

    centre = DemoCommandCentre(state, random.Random(3))
    steps = [await centre.take_turn() for _ in range(24)]

    taken = Counter(step for _, step in filter(None, steps))
    assert taken["assign"] >= 4 and taken[Status.CLOSED] >= 2, taken
    statuses = await _statuses(state)
    assert statuses[Status.CLOSED] >= 2, statuses
    async with state.db.session() as session:
        stats = await compute_stats(session)
        events = (
            await session.scalars(select(LedgerEvent).where(LedgerEvent.seq > head_before).order_by(LedgerEvent.seq))
        ).all()
        incidents = {i.id: i for i in (await session.scalars(select(Incident))).all()}
    assert stats["resolved_today"] >= 2
    assert stats["trend"][-1]["resolved"] == stats["resolved_today"]

    # Every step is a ledger event, taken by the person whose job it is.
    assert len(events) == sum(taken.values())
    for event in events:
        incident = incidents[event.incident_id]
        if event.type == "assigned":
            assert event.actor == DEMO_OPERATOR and event.data["assignee"] in DEMO_INSPECTORS
        elif event.data["to"] == Status.CLOSED:
            assert event.actor == DEMO_OPERATOR and event.data["note"]
        else:
            assert event.type == "status_changed"
            assert event.data["to"] in (Status.IN_PROGRESS, Status.RESOLVED)
            assert event.actor == incident.assignee, "an inspector works only on their own problems"
    async with state.db.session() as session:
        check, _ = await verify_ledger(session)
    assert not check.problems


async def test_the_demo_history_leaves_no_recent_day_without_closures(state: AppState) -> None:
    await prepare_demo(state, preload=False)
    # Problems spread over the last five days, one an hour: enough for each day of the trend at any
    # time of day (one every three hours left a day without closures when the day had just begun).
    ages = [timedelta(hours=h) for h in range(1, 5 * 24)]
    await _report(state, ages)
    now = utcnow()
    await work_through_history(state, now)

    async with state.db.session() as session:
        stats = await compute_stats(session, now)
        recent = (
            await session.scalars(
                select(Incident).where(Incident.first_reported_at > now - timedelta(hours=RECENT_QUIET_HOURS))
            )
        ).all()
        old_open = await session.scalar(
            select(func.count()).where(
                Incident.last_reported_at < now - timedelta(days=3), Incident.status.in_(lifecycle.OPEN_STATUSES)
            )
        )
    assert old_open == 0, "problems older than three days are all handled"
    assert recent and all(i.status == Status.NEW for i in recent), "the last hours' problems are left new"
    last_days = stats["trend"][-4:]
    assert all(day["resolved"] > 0 for day in last_days), last_days
    statuses = await _statuses(state)
    for status in (Status.NEW, Status.DISPATCHED, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED):
        assert statuses[status] > 0, f"no {status} problem after the history: {statuses}"
