"""`community-brain demo`: the sample register, demo accounts, two months of history, then a live replay."""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from service.auth import service as auth_service
from service.auth.models import Principal
from service.db.database import UnitOfWork
from service.feeds.parse import parse_items
from service.incidents.models import Incident
from service.incidents.projection import record_change
from service.kit.clock import utcnow
from service.ledger.service import lock_ledger
from service.records.models import SourceRecord
from service.registry.importer import import_registry_file
from service.registry.models import Entity
from service.state import AppState
from service.vocabulary import Role, Status

from .samples import DATA, history_shift, load_samples, retimed, split_history

log = logging.getLogger(__name__)

DEMO_USERS = (
    ("admin", Role.ADMIN, "admin-demo-1"),
    ("operator", Role.OPERATOR, "operator-demo-1"),
    ("zhang", Role.INSPECTOR, "inspector-demo-1"),
    ("li", Role.INSPECTOR, "inspector-demo-1"),
)
HISTORY_OPEN_DAYS = 3  # history older than this is shown as handled
# Of the recent problems, the share already handled when the demo starts, and how far each got:
# the wall then shows a working pipeline, and the trend's 办结 line does not drop to 0.
RECENT_HANDLED_SHARE = 0.6
RECENT_QUIET_HOURS = 2  # problems reported in the last hours are left new
DEMO_OPERATOR = "operator"
DEMO_INSPECTORS = ("zhang", "li")


async def prepare_demo(state: AppState, preload: bool = True, port: int = 8000) -> int:
    """Load what the demo needs, once; print how to open the screens. Returns an exit code."""
    async with state.db.session() as session:
        entities = await session.scalar(select(func.count()).select_from(Entity)) or 0
        records = await session.scalar(select(func.count()).select_from(SourceRecord)) or 0
        existing_users = set((await session.scalars(select(Principal.name))).all())
    if entities == 0:
        await import_registry_file(state.db, (DATA / "registry.csv").read_bytes(), "registry.csv")
        await state.resolver.refresh_now(state.db)
    async with state.db.transaction() as uow:
        for username, role, password in DEMO_USERS:
            if username not in existing_users:
                await auth_service.create_user(uow.session, username, role, password, state.hasher)
        _, wall_key = await auth_service.create_key(
            uow.session, Role.DISPLAY, None, None, set(state.adapters.known_sources()), state.hasher
        )
    if preload and records == 0:
        await preload_history(state)
    print("\n社区大脑 demo — 演示数据已就绪")
    base = f"http://127.0.0.1:{port}"
    print(f"  wall screen:   {base}/wall#key={wall_key}")
    print(f"  console:       {base}/console   (operator / operator-demo-1)")
    print(f"  inspector:     {base}/inspector (zhang / inspector-demo-1)")
    print(f"  admin:         admin / admin-demo-1;  API docs: {base}/docs\n")
    return 0


async def preload_history(state: AppState) -> None:
    """Two months of sample feeds, moved to end now; older incidents worked through to closed."""
    now = utcnow()
    history, _ = split_history(load_samples())
    shift = history_shift(history, now)
    by_source: dict[str, list[tuple[int, Any]]] = defaultdict(list)
    for i, sample in enumerate(history):
        by_source[sample.source].append((i, retimed(sample, sample.occurred_at + shift)))
    for source, items in by_source.items():
        for start in range(0, len(items), 1000):
            _, accepted = parse_items(state.adapters, source, items[start : start + 1000])
            await state.ingest.submit(f"department:{source}", [a.record for a in accepted])
    await work_through_history(state, now)


async def work_through_history(state: AppState, now: datetime) -> None:
    """What the command centre would have done with the problems so far: dispatched, handled, closed.

    Problems older than a few days are closed; most of the recent ones are somewhere along the
    way. Each step is recorded with the time it would have happened, by the person who would have
    taken it, so the trend and "resolved today" look like a working command centre rather than a
    mass closure at start-up.
    """
    cutoff = now - timedelta(days=HISTORY_OPEN_DAYS)
    quiet = now - timedelta(hours=RECENT_QUIET_HOURS)
    async with state.db.session() as session:
        rows = (
            await session.execute(
                select(Incident.id, Incident.last_reported_at).where(
                    Incident.status == Status.NEW, Incident.last_reported_at < quiet
                )
            )
        ).all()
    rng = random.Random(7)
    plan: list[tuple[int, int]] = []  # (incident, steps to take)
    for incident_id, reported in rows:
        if reported < cutoff:
            plan.append((incident_id, len(HISTORY_STEPS) + 1))
        elif rng.random() < RECENT_HANDLED_SHARE:
            plan.append((incident_id, rng.randint(1, len(HISTORY_STEPS) + 1)))
    for start in range(0, len(plan), 200):
        async with state.db.transaction() as uow:
            await lock_ledger(uow)
            for incident_id, steps in plan[start : start + 200]:
                incident = await uow.session.get(Incident, incident_id)
                if incident is not None:
                    await _handle_in_the_past(uow, incident, rng.choice(DEMO_INSPECTORS), rng, now, steps)


async def _handle_in_the_past(
    uow: UnitOfWork, incident: Incident, inspector: str, rng: random.Random, latest: datetime, steps: int
) -> None:
    """Assign, then take ``steps - 1`` more steps towards closed, none later than ``latest``."""
    at = incident.last_reported_at
    times = []
    for hours in (rng.uniform(0.2, 2), rng.uniform(0.5, 6), rng.uniform(2, 40), rng.uniform(1, 24))[:steps]:
        at = min(at + timedelta(hours=hours), latest)
        times.append(at)
    previous_assignee = incident.assignee
    incident.assignee, incident.status = inspector, Status.DISPATCHED
    await record_change(
        uow,
        incident,
        "assigned",
        DEMO_OPERATOR,
        {"assignee": inspector, "previous_assignee": previous_assignee, "from": Status.NEW, "to": Status.DISPATCHED},
        at=times[0],
    )
    for at, (previous, target, note) in zip(times[1:], HISTORY_STEPS, strict=False):
        incident.status = target
        if target in (Status.RESOLVED, Status.CLOSED):
            incident.resolved_at = incident.resolved_at or at
        if target == Status.CLOSED:
            incident.resolution_note = note
        actor = DEMO_OPERATOR if target == Status.CLOSED else inspector
        change = {"from": previous, "to": target, "note": note}
        await record_change(uow, incident, "status_changed", actor, change, at=at)


HISTORY_STEPS = (
    (Status.DISPATCHED, Status.IN_PROGRESS, None),
    (Status.IN_PROGRESS, Status.RESOLVED, "现场已整改"),
    (Status.RESOLVED, Status.CLOSED, "复核通过，已办结"),
)
