"""Appending to the ledger and reading it back.

Seq and hash are handed out under the lock on the single ledger_head row (SELECT … FOR UPDATE),
kept until commit: so in commit order, and a reader that sees seq N+1 always sees seq N, even with
many concurrent writers on PostgreSQL. SQLite has one writer at a time anyway.

A transaction takes the lock at its first append, unless it asked to be numbered at commit
(``number_at_commit``): then its events wait in memory without seq or hash, and the lock is taken
just before the commit, to number, chain and write them. Ingest does that, so the lock is held for
what must be serial and not for the matching, placement and writes before it; what those decide
is protected by locks of its own (feeds/store.py). Either way a transaction's events are written
in one insert just before it commits: a batch of a thousand records appends a thousand events.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.bulk import insert_rows
from service.db.database import UnitOfWork
from service.kit.clock import utcnow
from service.ledger.chain import ChainCheck, event_hash
from service.ledger.models import LedgerEvent, LedgerHead

VERIFY_CHUNK = 5000


@dataclass(slots=True)
class AppendedEvent:
    """An event appended in this transaction; the same fields as a LedgerEvent row. Seq and hashes
    are 0 and "" until it is numbered (at once, or at commit: see number_at_commit)."""

    incident_id: int | None
    type: str
    actor: str
    at: datetime
    data: dict[str, Any]
    incident: dict[str, Any] | None
    seq: int = 0
    prev_hash: str = ""
    hash: str = ""


LedgerEntry = AppendedEvent | LedgerEvent


@dataclass(slots=True)
class LedgerWork:
    """The ledger's part of one transaction: the head as its appends leave it (None until it holds
    the lock), the events it appended, in seq order, and when it took the lock (perf_counter)."""

    head: tuple[int, str] | None = None
    events: list[AppendedEvent] = field(default_factory=list)
    locked_at: float | None = None
    at_commit: bool = False  # number_at_commit was called
    waiting: list[AppendedEvent] = field(default_factory=list)  # appended before the lock, in order


_WORK_KEY = "ledger"


def ledger_work(uow: UnitOfWork) -> LedgerWork:
    """This transaction's ledger state, kept on its session."""
    work = uow.session.info.get(_WORK_KEY)
    if work is None:
        work = uow.session.info[_WORK_KEY] = LedgerWork()
    return cast(LedgerWork, work)


def new_events(uow: UnitOfWork) -> list[AppendedEvent]:
    """The events this transaction appended, in seq order (after commit: what it published)."""
    work = uow.session.info.get(_WORK_KEY)
    return cast(LedgerWork, work).events if work is not None else []


async def lock_ledger(uow: UnitOfWork) -> None:
    """Take the ledger lock for the rest of this transaction (idempotent).

    Callers that read state and then append (merging, status changes) take it before reading, so
    their decision and their event are serialised with every other writer.
    """
    work = ledger_work(uow)
    if work.head is not None:
        return
    row = (
        await uow.session.execute(select(LedgerHead.seq, LedgerHead.hash).where(LedgerHead.id == 1).with_for_update())
    ).one()
    work.head = (row.seq, row.hash)
    work.locked_at = time.perf_counter()
    for event in work.waiting:
        _number(work, event)
    work.waiting.clear()
    uow.before_commit(_write_events)


def number_at_commit(uow: UnitOfWork) -> None:
    """Let this transaction append without the ledger lock: its events are numbered, chained and
    written just before it commits, under the lock (taken then). Whatever decided them must be
    protected by other locks; its events carry the incident state and time of when they were
    appended, so their ``at`` may be a little earlier than an event with a lower seq."""
    work = ledger_work(uow)
    if work.at_commit or work.head is not None:
        return
    work.at_commit = True
    uow.before_commit(lock_ledger)  # adds _write_events, which runs next


def lock_held_s(uow: UnitOfWork) -> float | None:
    """How long this transaction has held the ledger lock (after commit: how long it held it), or None."""
    work = uow.session.info.get(_WORK_KEY)
    locked_at = cast(LedgerWork, work).locked_at if work is not None else None
    return None if locked_at is None else time.perf_counter() - locked_at


async def _write_events(uow: UnitOfWork) -> None:
    work = ledger_work(uow)
    if work.events and work.head is not None:
        rows = [{name: getattr(event, name) for name in AppendedEvent.__slots__} for event in work.events]
        await insert_rows(uow.session, LedgerEvent.__tablename__, rows)
        seq, hash_ = work.head
        await uow.session.execute(update(LedgerHead).where(LedgerHead.id == 1).values(seq=seq, hash=hash_))


async def append_event(
    uow: UnitOfWork,
    *,
    type: str,
    actor: str,
    incident_id: int | None,
    data: dict[str, Any],
    incident: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AppendedEvent:
    """Append one event in this transaction; it is written, becomes visible and is published at commit.

    Takes the ledger lock first unless the transaction is numbered at commit (then the event has no
    seq yet). ``at`` defaults to now; an importer of earlier history passes when the step happened.
    """
    work = ledger_work(uow)
    if work.head is None and not work.at_commit:
        await lock_ledger(uow)
    event = AppendedEvent(incident_id, type, actor, at or utcnow(), data, incident)
    if work.head is None:
        work.waiting.append(event)
    else:
        _number(work, event)
    return event


def _number(work: LedgerWork, event: AppendedEvent) -> None:
    """Give the event the next seq and chain it to the head (under the lock)."""
    assert work.head is not None
    prev_seq, prev_hash = work.head
    event.seq, event.prev_hash = prev_seq + 1, prev_hash
    event.hash = event_hash(
        prev_hash, event.seq, event.incident_id, event.type, event.actor, event.at, event.data, event.incident
    )
    work.head = (event.seq, event.hash)
    work.events.append(event)


async def events_after(
    session: AsyncSession, since: int, limit: int, incident_ids: Select[Any] | None = None
) -> Sequence[LedgerEvent]:
    """Events after seq `since`, in order; only those of `incident_ids` (a subquery) when given."""
    stmt = select(LedgerEvent).where(LedgerEvent.seq > since)
    if incident_ids is not None:
        stmt = stmt.where(LedgerEvent.incident_id.in_(incident_ids))
    return (await session.scalars(stmt.order_by(LedgerEvent.seq).limit(limit))).all()


@dataclass(frozen=True)
class LedgerPosition:
    seq: int
    hash: str
    epoch: str


async def ledger_position(session: AsyncSession) -> LedgerPosition:
    row = (await session.execute(select(LedgerHead).where(LedgerHead.id == 1))).scalar_one()
    return LedgerPosition(row.seq, row.hash, row.epoch)


async def start_new_epoch(uow: UnitOfWork) -> tuple[str, str]:
    """Give the ledger a new epoch (after a restore): live clients then start over from a snapshot
    instead of resuming with a `since` from another history. Returns (old epoch, new epoch)."""
    await lock_ledger(uow)
    old = (await uow.session.execute(select(LedgerHead.epoch).where(LedgerHead.id == 1))).scalar_one()
    new = uuid.uuid4().hex
    await uow.session.execute(update(LedgerHead).where(LedgerHead.id == 1).values(epoch=new))
    return old, new


async def verify_ledger(session: AsyncSession) -> tuple[ChainCheck, LedgerPosition]:
    """Walk the chain in seq order up to the head as it was when the walk began; report edits,
    deletions and reorderings. Events committed meanwhile are left for the next walk."""
    position = await ledger_position(session)
    check = ChainCheck()
    after = 0
    while True:
        rows = (
            await session.scalars(
                select(LedgerEvent)
                .where(LedgerEvent.seq > after, LedgerEvent.seq <= position.seq)
                .order_by(LedgerEvent.seq)
                .limit(VERIFY_CHUNK)
            )
        ).all()
        if not rows:
            break
        check.feed(rows)
        after = rows[-1].seq
        session.expunge_all()
    check.finish(position.seq, position.hash)
    beyond = await session.scalar(select(func.max(LedgerEvent.seq)))
    # Events past the head are normal while others write (the head moves with them), not otherwise.
    if beyond is not None and beyond > position.seq and beyond > (await ledger_position(session)).seq:
        check.problem(f"events up to seq {beyond} lie beyond the ledger head")
    return check, position


def event_message(event: LedgerEntry) -> dict[str, Any]:
    """The event as every client sees it (HTTP /events and the live stream)."""
    return {
        "seq": event.seq,
        "type": event.type,
        "incident_id": event.incident_id,
        "actor": event.actor,
        "at": event.at.isoformat(),
        "data": event.data,
    }
