"""The live part of the demo: the newest sample records arrive at a steady pace, stamped with the
current time, and a simulated command centre works some incidents, so the wall screen stays alive."""

from __future__ import annotations

import asyncio
import logging
import random

from sqlalchemy import select

from service.auth.models import Principal
from service.auth.service import Caller
from service.errors import Conflict
from service.feeds.parse import parse_items
from service.incidents import workflow
from service.incidents.models import Incident
from service.kit.clock import utcnow
from service.state import AppState
from service.vocabulary import Role, Status

from .samples import load_samples, retimed, split_history
from .setup import DEMO_INSPECTORS, DEMO_OPERATOR

log = logging.getLogger(__name__)

# The pipeline, walked from its end so that work already started is finished first: who takes
# each step, on incidents in which status, and the note it carries.
STAGES: tuple[tuple[Role, str, str, str | None], ...] = (
    (Role.OPERATOR, Status.RESOLVED, Status.CLOSED, "复核通过，已办结"),
    (Role.INSPECTOR, Status.IN_PROGRESS, Status.RESOLVED, "现场已整改"),
    (Role.INSPECTOR, Status.DISPATCHED, Status.IN_PROGRESS, None),
    (Role.OPERATOR, Status.NEW, "assign", None),
)


async def replay_forever(state: AppState, pace: float) -> None:
    """Replay the live part of the samples at ``pace`` records a second, round after round with new ids."""
    _, live = split_history(load_samples())
    rng = random.Random()
    centre = DemoCommandCentre(state, rng)
    interval = 1.0 / pace
    round_no = 0
    while True:
        suffix = f"-R{round_no}" if round_no else ""
        for n, sample in enumerate(live):
            try:
                item = retimed(sample, utcnow(), suffix)
                _, accepted = parse_items(state.adapters, sample.source, [(0, item)])
                await state.ingest.submit(f"department:{sample.source}", [a.record for a in accepted])
                if n % 3 == 0:
                    await centre.take_turn()
            except Exception:  # the demo must go on after a database hiccup
                log.exception("demo replay step failed")
            await asyncio.sleep(interval)
        round_no += 1


class DemoCommandCentre:
    """The demo's operator and inspectors at work, through the same workflow as their screens.

    Each turn takes one step: the operator dispatches the oldest new problem to an inspector or
    closes a resolved one; an inspector starts or resolves one of their own. Turns rotate over the
    stages, so the whole pipeline moves and 今日办结 grows while the replay runs.
    """

    def __init__(self, state: AppState, rng: random.Random):
        self.state = state
        self.rng = rng
        self.turn = 0
        self._people: dict[str, Caller] | None = None

    async def people(self) -> dict[str, Caller]:
        if self._people is None:
            names = (DEMO_OPERATOR, *DEMO_INSPECTORS)
            async with self.state.db.session() as session:
                found = (await session.scalars(select(Principal).where(Principal.name.in_(names)))).all()
            self._people = {
                p.name: Caller(principal_id=p.id, name=p.name, role=p.role, source=None, kind="user") for p in found
            }
        return self._people

    async def take_turn(self) -> tuple[int, str] | None:
        """One step on one incident: (incident id, the step taken), or None when there was nothing to do."""
        people = await self.people()
        inspectors = [people[name] for name in DEMO_INSPECTORS if name in people]
        operator = people.get(DEMO_OPERATOR)
        if operator is None or not inspectors:
            return None
        first = self.turn % len(STAGES)
        self.turn += 1
        for offset in range(len(STAGES)):
            role, status, step, note = STAGES[(first + offset) % len(STAGES)]
            workers = [operator] if role == Role.OPERATOR else self.rng.sample(inspectors, len(inspectors))
            for worker in workers:
                done = await self._step(worker, status, step, note, inspectors)
                if done is not None:
                    return done, step
        return None

    async def _step(
        self, worker: Caller, status: str, step: str, note: str | None, inspectors: list[Caller]
    ) -> int | None:
        query = select(Incident.id, Incident.version).where(Incident.status == status)
        if worker.role == Role.INSPECTOR:
            query = query.where(Incident.assignee == worker.name)
        async with self.state.db.session() as session:
            row = (await session.execute(query.order_by(Incident.last_reported_at).limit(1))).first()
        if row is None:
            return None
        incident_id, version = row
        try:
            async with self.state.db.transaction() as uow:
                if step == "assign":
                    inspector = self.rng.choice(inspectors).name
                    await workflow.assign(uow, incident_id, worker, inspector, version)
                else:
                    await workflow.change_status(uow, incident_id, worker, Status(step), note, version)
        except Conflict:
            return None  # someone at a screen changed it first; theirs stands
        return int(incident_id)


async def start_demo(state: AppState) -> None:
    if state.settings.demo_pace > 0:
        state.run_in_background("demo-replay", replay_forever(state, state.settings.demo_pace))
