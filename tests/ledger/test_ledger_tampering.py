"""Tampering that tests/ledger/test_ledger.py does not cover: edits of an
event's data, its incident snapshot or its time, a re-hashed edit, and a forged event appended.
Done through the ORM, bypassing the service, on both databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.ledger.chain import event_hash
from service.ledger.models import LedgerEvent
from service.ledger.service import append_event, verify_ledger
from service.state import AppState


def edit_data(event: LedgerEvent) -> None:
    event.data = {**event.data, "text": "改过的说明"}


def edit_snapshot(event: LedgerEvent) -> None:
    event.incident = {**(event.incident or {}), "status": "closed"}


def edit_time(event: LedgerEvent) -> None:
    event.at = event.at - timedelta(hours=1)


def edit_and_rehash(event: LedgerEvent) -> None:
    """A careful forger recomputes the edited event's own hash; the next event still points elsewhere."""
    event.actor = "mallory"
    event.hash = event_hash(
        event.prev_hash, event.seq, event.incident_id, event.type, event.actor, event.at, event.data, event.incident
    )


@pytest.mark.parametrize(
    "tamper", [edit_data, edit_snapshot, edit_time, edit_and_rehash], ids=lambda f: f.__name__.replace("_", "-")
)
async def test_verify_detects_an_edited_event(state: AppState, tamper: Callable[[LedgerEvent], None]) -> None:
    for n in range(5):
        async with state.db.transaction() as uow:
            await append_event(
                uow, type="note_added", actor="op", incident_id=None, data={"n": n, "text": "说明"},
                incident={"status": "new", "n": n},
            )  # fmt: skip
    async with state.db.session() as session:
        event = (await session.scalars(select(LedgerEvent).where(LedgerEvent.seq == 3))).one()
        tamper(event)
        await session.commit()
        check, _ = await verify_ledger(session)
    assert not check.ok and any("seq 3" in p or "seq 4" in p for p in check.problems), check.problems


async def test_verify_detects_a_forged_event_appended_behind_the_head(state: AppState) -> None:
    for n in range(3):
        async with state.db.transaction() as uow:
            await append_event(uow, type="note_added", actor="op", incident_id=None, data={"n": n})
    async with state.db.session() as session:
        last = (await session.scalars(select(LedgerEvent).where(LedgerEvent.seq == 3))).one()
        forged = LedgerEvent(
            seq=4, incident_id=None, type="note_added", actor="mallory", at=last.at, data={}, incident=None,
            prev_hash=last.hash,
            hash=event_hash(last.hash, 4, None, "note_added", "mallory", last.at, {}, None),
        )  # fmt: skip
        session.add(forged)
        await session.commit()
        check, _ = await verify_ledger(session)
    assert not check.ok and any("head" in p for p in check.problems), check.problems
