"""Linking records to the register: an in-memory matcher index kept in step with the entities table.

Matching runs against memory (indexed blocking, never a scan of the register per record). Every
worker keeps its own index and picks up register changes, its own or other workers', by reading
the entities changed since it last looked; the read overlaps a little in time so that clock skew
between hosts cannot hide a change.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.database import Database
from service.feeds.normalized import NormalizedRecord
from service.matching.matcher import EntityIndex, EntityRef, MatchQuery, MatchResult, MatchThresholds
from service.matching.uscc import valid_uscc_or_none
from service.registry.models import Entity
from service.residents.linking import ComplaintLinker

REFRESH_OVERLAP = timedelta(minutes=5)
REFRESH_EVERY_S = 1.0


def entity_ref(entity: Entity) -> EntityRef:
    return EntityRef(
        id=entity.id,
        name=entity.name,
        legal_name=entity.legal_name,
        aliases=tuple(entity.aliases or ()),
        uscc=entity.uscc if entity.uscc_valid else None,
        address=entity.address,
        lat=entity.lat,
        lng=entity.lng,
        community=entity.community,
    )


def match_query(record: NormalizedRecord) -> MatchQuery:
    return MatchQuery(
        name=record.name,
        address=record.address,
        uscc=valid_uscc_or_none(record.uscc),
        lat=record.lat,
        lng=record.lng,
    )


class EntityResolver:
    def __init__(self, thresholds: MatchThresholds | None = None):
        self.index = EntityIndex()
        self.complaints = ComplaintLinker(self.index)
        self.thresholds = thresholds or MatchThresholds()
        self._seen_until: datetime | None = None
        self._checked_at = 0.0
        self._lock = asyncio.Lock()

    def refresh_due(self) -> bool:
        """True when the next refresh would look at the database (at most once a second)."""
        return time.monotonic() - self._checked_at >= REFRESH_EVERY_S

    async def refresh(self, session: AsyncSession, force: bool = False) -> int:
        """Load entities created or changed since the last refresh; returns how many were (re)indexed."""
        async with self._lock:
            if not force and time.monotonic() - self._checked_at < REFRESH_EVERY_S:
                return 0
            self._checked_at = time.monotonic()
            newest = await session.scalar(select(func.max(Entity.updated_at)))
            if newest is None or (self._seen_until is not None and newest <= self._seen_until):
                return 0
            stmt = select(Entity)
            if self._seen_until is not None:
                stmt = stmt.where(Entity.updated_at >= self._seen_until - REFRESH_OVERLAP)
            entities = (await session.scalars(stmt)).all()
            for entity in entities:
                if entity.status == "closed":
                    self.index.remove(entity.id)
                else:
                    self.index.update(entity_ref(entity))
                if self._seen_until is None or entity.updated_at > self._seen_until:
                    self._seen_until = entity.updated_at
            return len(entities)

    async def refresh_now(self, db: Database) -> int:
        """Pick up register changes at once (after an import), not at the next periodic check."""
        async with db.session() as session:
            return await self.refresh(session, force=True)

    def remember(self, entity: Entity) -> None:
        """Index an entity this worker just changed, without waiting for the next refresh."""
        self.index.update(entity_ref(entity))

    def match(self, record: NormalizedRecord) -> MatchResult:
        """The record's entity, or none and the candidates. A resident's complaint left unlinked is
        given the point its text names as its location when it has none."""
        if record.theme is not None:  # a resident's complaint: free text, read by service/residents/linking.py
            result, point = self.complaints.match_and_place(record.address, record.description, record.theme)
            if result.entity_id is None and point is not None and record.lat is None and record.lng is None:
                # Where the text puts it: unlinked complaints about one place merge under the rule
                # for reports at no entity (same category, within the distance), and show on the map.
                record.lat, record.lng = point
            return result
        return self.index.match(match_query(record), self.thresholds)
