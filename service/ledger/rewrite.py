"""Rewriting history on purpose: each event passed through a function, the chain re-hashed from
the first event it changed, and the ledger given a new epoch.

For one thing only: removing what must not be kept (personal data written before it was masked).
A rewritten chain verifies again, so the rewrite refuses a chain that does not verify first: it
must never launder an edit made outside the service. The old head is returned for the record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from service.db.database import UnitOfWork
from service.errors import AppError
from service.ledger.chain import GENESIS_HASH, event_hash
from service.ledger.models import LedgerEvent, LedgerHead
from service.ledger.service import VERIFY_CHUNK, ledger_work, lock_ledger, start_new_epoch, verify_ledger

# (data, incident) of one event → what they become; the same values when nothing changes.
EventChange = Callable[[dict[str, Any], dict[str, Any] | None], tuple[dict[str, Any], dict[str, Any] | None]]


class ChainNotVerified(AppError):
    status, code = 409, "ledger_not_verified"


@dataclass(frozen=True)
class Rewrite:
    events_changed: int
    from_seq: int | None  # the first event changed; None when nothing was
    old_head: tuple[int, str]
    head: tuple[int, str]
    old_epoch: str | None  # None when nothing changed (the epoch is kept)
    epoch: str | None


async def rewrite_events(uow: UnitOfWork, change: EventChange) -> Rewrite:
    """Apply ``change`` to every event in this transaction; re-hash from the first change on."""
    await lock_ledger(uow)
    session = uow.session
    check, position = await verify_ledger(session)
    if not check.ok:
        raise ChainNotVerified("the ledger does not verify; nothing was rewritten", check.problems)
    old_head = (position.seq, position.hash)
    changed, from_seq, prev_hash, after = 0, None, GENESIS_HASH, 0
    while True:
        rows = (
            await session.execute(
                select(LedgerEvent.__table__)
                .where(LedgerEvent.seq > after)
                .order_by(LedgerEvent.seq)
                .limit(VERIFY_CHUNK)
            )
        ).all()
        if not rows:
            break
        updates: list[dict[str, Any]] = []
        for row in rows:
            data, incident = change(row.data, row.incident)
            if (data, incident) != (row.data, row.incident):
                changed += 1
                from_seq = row.seq if from_seq is None else from_seq
            if from_seq is not None:
                new_hash = event_hash(prev_hash, row.seq, row.incident_id, row.type, row.actor, row.at, data, incident)
                updates.append(
                    {"seq": row.seq, "data": data, "incident": incident, "prev_hash": prev_hash, "hash": new_hash}
                )
                prev_hash = new_hash
            else:
                prev_hash = row.hash
        if updates:
            await session.execute(update(LedgerEvent), updates)
        after = rows[-1].seq
    if from_seq is None:
        return Rewrite(0, None, old_head, old_head, None, None)
    await session.execute(update(LedgerHead).where(LedgerHead.id == 1).values(hash=prev_hash))
    ledger_work(uow).head = (position.seq, prev_hash)
    old_epoch, epoch = await start_new_epoch(uow)
    return Rewrite(changed, from_seq, old_head, (position.seq, prev_hash), old_epoch, epoch)
