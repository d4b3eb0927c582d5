"""The snapshot a client starts from: open incidents, the wall's figures and the ledger seq, read consistently.

All three come from ONE read transaction (REPEATABLE READ on PostgreSQL, a deferred read
transaction on SQLite), so the seq says exactly which events the incidents already include.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.database import Database
from service.incidents.lifecycle import OPEN_STATUSES
from service.incidents.models import Incident
from service.incidents.projection import incident_as_dict
from service.ledger.service import ledger_position
from service.live.filters import LiveFilter
from service.live.protocol import encode_snapshot
from service.stats.service import compute_stats

# Clients that (re)connect together — a worker restart, a network blip — share one read.
REUSE_FOR_S = 2.0


@dataclass(frozen=True)
class Snapshot:
    epoch: str
    seq: int
    incidents: list[dict[str, Any]]
    stats: dict[str, Any]
    read_at: float = field(default_factory=time.monotonic)

    def text_for(self, live_filter: LiveFilter | None) -> str:
        if live_filter is None or live_filter.is_empty:
            return self.text
        incidents = [incident for incident in self.incidents if live_filter.matches(incident)]
        return encode_snapshot(self.epoch, self.seq, incidents, self.stats)

    @cached_property
    def text(self) -> str:
        """Encoded once and shared by every unfiltered client."""
        return encode_snapshot(self.epoch, self.seq, self.incidents, self.stats)


async def begin_consistent_read(session: AsyncSession, is_sqlite: bool) -> None:
    """Make every following read of this session see one point in time."""
    if not is_sqlite:
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    else:
        # pysqlite opens transactions only for writes; without this each SELECT would see its own moment.
        await session.execute(text("BEGIN"))


async def read_snapshot(db: Database) -> Snapshot:
    """Open incidents, stats and the ledger position as of one moment."""
    async with db.session() as session:
        await begin_consistent_read(session, db.is_sqlite)
        position = await ledger_position(session)
        rows = (
            await session.scalars(select(Incident).where(Incident.status.in_(OPEN_STATUSES)).order_by(Incident.id))
        ).all()
        incidents = [incident_as_dict(row) for row in rows]
        stats = await compute_stats(session)
    return Snapshot(position.epoch, position.seq, incidents, stats)


class SnapshotCache:
    """Hands out a snapshot that includes at least a given seq, reading as rarely as it can."""

    def __init__(self, db: Database):
        self.db = db
        self._latest: Snapshot | None = None
        self._reading: asyncio.Task[Snapshot] | None = None
        self._reading_covers = -1  # every event up to this seq was committed before that read began
        self.reads = 0

    async def get(self, covering: int, committed: int) -> Snapshot:
        """A snapshot whose seq is at least `covering`; `committed` is a seq known committed right now."""
        latest = self._latest
        if latest is not None and latest.seq >= covering and time.monotonic() - latest.read_at < REUSE_FOR_S:
            return latest
        if self._reading is None or self._reading_covers < covering:
            self._reading_covers = committed
            self._reading = asyncio.create_task(self._read(), name="live-snapshot")
        return await asyncio.shield(self._reading)

    async def _read(self) -> Snapshot:
        task = asyncio.current_task()
        try:
            snapshot = await read_snapshot(self.db)
            self.reads += 1
            if self._latest is None or snapshot.seq >= self._latest.seq:
                self._latest = snapshot
            return snapshot
        finally:
            if self._reading is task:
                self._reading = None

    def clear(self) -> None:
        self._latest = None
