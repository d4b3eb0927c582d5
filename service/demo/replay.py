"""The live part of the demo: the newest sample records arrive at a steady pace, stamped with the
current time, and a simulated command centre works some incidents, so the wall screen stays alive."""

from __future__ import annotations

import asyncio
import logging
import random

from sqlalchemy import select

from service.feeds.ingest import parse_items
from service.incidents import lifecycle, workflow
from service.incidents.models import Incident
from service.kit.clock import utcnow
from service.state import AppState

from .samples import load_samples, retimed, split_history
from .setup import DEMO_ACTOR

log = logging.getLogger(__name__)

NEXT_STEP = {
    lifecycle.NEW: ("assign", None),
    lifecycle.DISPATCHED: (lifecycle.IN_PROGRESS, None),
    lifecycle.IN_PROGRESS: (lifecycle.RESOLVED, "现场已整改"),
    lifecycle.RESOLVED: (lifecycle.CLOSED, "复核通过，已办结"),
}


async def replay_forever(state: AppState, pace: float) -> None:
    """Replay the live part of the samples at ``pace`` records a second, round after round with new ids."""
    _, live = split_history(load_samples())
    rng = random.Random()
    interval = 1.0 / pace
    round_no = 0
    while True:
        suffix = f"-R{round_no}" if round_no else ""
        for n, sample in enumerate(live):
            try:
                item = retimed(sample, utcnow(), suffix)
                _, accepted = parse_items(state.adapters, sample.source, [(0, item)])
                await state.ingest.submit(f"department:{sample.source}", accepted)
                if n % 3 == 0:
                    await advance_one_incident(state, rng)
            except Exception:  # the demo must go on after a database hiccup
                log.exception("demo replay step failed")
            await asyncio.sleep(interval)
        round_no += 1


async def advance_one_incident(state: AppState, rng: random.Random) -> None:
    """Move one open incident a step along its lifecycle, as an operator or inspector would."""
    async with state.db.session() as session:
        candidates = (
            await session.scalars(
                select(Incident.id).where(Incident.status.in_(lifecycle.OPEN_STATUSES)).order_by(Incident.id).limit(200)
            )
        ).all()
    if not candidates:
        return
    incident_id = rng.choice(candidates)
    async with state.db.transaction() as uow:
        incident = await uow.session.get(Incident, incident_id)
        if incident is None or incident.status not in NEXT_STEP:
            return
        step, note = NEXT_STEP[incident.status]
        if step == "assign":
            await workflow.assign(uow, incident_id, DEMO_ACTOR, rng.choice(["zhang", "li"]), incident.version)
        else:
            await workflow.change_status(uow, incident_id, DEMO_ACTOR, step, note, incident.version)


async def start_demo(state: AppState) -> None:
    if state.settings.demo_pace > 0:
        state.run_in_background("demo-replay", replay_forever(state, state.settings.demo_pace))
