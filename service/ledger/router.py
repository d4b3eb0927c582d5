"""Reading the ledger and checking its hash chain."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from service.deps import AdminDep, IncidentReaderDep, SessionDep
from service.incidents.queries import assigned_to
from service.ledger.service import event_message, events_after, ledger_position, verify_ledger

router = APIRouter(tags=["ledger"])


class EventPage(BaseModel):
    epoch: str
    head_seq: int
    events: list[dict[str, Any]]


class VerifyOut(BaseModel):
    ok: bool
    events: int
    head_seq: int
    head_hash: str
    problems: list[str]


@router.get("/events", response_model=EventPage)
async def list_events(
    session: SessionDep,
    caller: IncidentReaderDep,
    since: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> EventPage:
    """The ledger after seq ``since``, in order, with each event's incident state. An inspector gets
    only the events of the incidents assigned to them."""
    position = await ledger_position(session)
    scope = caller.assignee_scope
    rows = await events_after(session, since, limit, assigned_to(scope) if scope is not None else None)
    return EventPage(
        epoch=position.epoch,
        head_seq=position.seq,
        events=[{**event_message(e), "incident": e.incident} for e in rows],
    )


@router.get("/ledger/verify", response_model=VerifyOut)
async def verify(session: SessionDep, _admin: AdminDep) -> VerifyOut:
    """Walk the hash chain; any edited, deleted or reordered event makes ok false."""
    check, position = await verify_ledger(session)
    return VerifyOut(
        ok=check.ok,
        events=check.events,
        head_seq=position.seq,
        head_hash=position.hash,
        problems=check.problems,
    )
