"""Putting problem reports into incidents: open, join, or join and merge what a report bridges.

The decision for each report is merging.place_report (pure); this module loads the candidate
incidents, applies the decision and writes each step to the ledger. It runs under the ledger
lock, so two batches never both open an incident for the same problem.

Decisions are made in memory and written afterwards in bulk: the incidents a pass opens go out in
one insert, before anything that points at them (records, merged incidents) is written, and the
candidates it changed in one update. Candidates are read as plain rows, except those the session
already holds as mapped objects: one incident is never two objects in a transaction.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Row, and_, func, or_, select, update
from sqlalchemy.orm.util import identity_key

from service.db.bulk import insert_rows
from service.db.database import UnitOfWork
from service.db.ids import reserve_ids
from service.db.lists import in_pairs, in_values
from service.incidents.lifecycle import MERGED, OPEN_STATUSES
from service.incidents.merging import IncidentFacts, MergeSettings, ReportFacts, place_report
from service.incidents.models import Incident, IncidentRow, IncidentState
from service.incidents.projection import record_change
from service.incidents.sla import SlaRule, compute_due_at, is_overdue
from service.incidents.vocabulary import SEVERITIES
from service.kit.clock import utcnow
from service.records.models import SourceRecord

METRES_PER_DEGREE_LAT = 111_320.0


class PlacedRecord(Protocol):
    """What placement reads of a record: a stored SourceRecord, or a new one about to be inserted."""

    id: int
    source: str
    source_record_id: str
    entity_id: str | None
    category: str
    occurred_at: datetime
    lat: float | None
    lng: float | None
    title: str
    address: str | None
    severity: str
    is_problem: bool
    incident_id: int | None


class PlacedEntity(Protocol):
    """What an incident takes from its entity."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def address(self) -> str | None: ...
    @property
    def lat(self) -> float | None: ...
    @property
    def lng(self) -> float | None: ...
    @property
    def grid(self) -> str | None: ...


@dataclass(frozen=True)
class PlacementRules:
    merge: MergeSettings
    sla: Mapping[str, SlaRule]


@dataclass
class _Candidate:
    incident: IncidentState
    reports: list[tuple[datetime, tuple[float, float] | None]] = field(default_factory=list)

    def facts(self) -> IncidentFacts:
        return IncidentFacts(
            incident_id=str(self.incident.id),
            entity_id=self.incident.entity_id,
            category=self.incident.category,
            status=self.incident.status,
            lat=self.incident.lat,
            lng=self.incident.lng,
            report_times=tuple(at for at, _ in self.reports),
            first_reported_at=self.incident.first_reported_at,
            report_locations=tuple(loc for _, loc in self.reports),
        )


def _location(record: PlacedRecord) -> tuple[float, float] | None:
    return None if record.lat is None or record.lng is None else (record.lat, record.lng)


def report_facts(record: PlacedRecord) -> ReportFacts:
    return ReportFacts(str(record.id), record.entity_id, record.category, record.occurred_at, record.lat, record.lng)


def more_severe(a: str, b: str) -> str:
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return a if rank.get(a, 1) >= rank.get(b, 1) else b


class Placer:
    """Places one transaction's problem records; candidates stay in memory across the batch."""

    def __init__(self, uow: UnitOfWork, rules: PlacementRules, actor: str = ""):
        self.uow = uow
        self.rules = rules
        self.actor = actor
        self._by_entity: dict[tuple[str, str], list[_Candidate]] = defaultdict(list)
        self._by_place: dict[str, list[_Candidate]] = defaultdict(list)
        self._loaded: dict[int, _Candidate] = {}
        self._free_ids: list[int] = []
        self._opened: list[IncidentRow] = []  # not written yet: see _write
        self._read: dict[int, tuple[IncidentRow, int]] = {}  # candidates read as rows, and their version then
        self._placed: list[PlacedRecord] = []  # records this placer put into an incident
        self._moves: list[tuple[int, int]] = []  # (from, to): stored records to move, in order

    async def place(
        self,
        records: Sequence[PlacedRecord],
        entities: Mapping[str, PlacedEntity],
        actors: Mapping[int, str] | None = None,
    ) -> None:
        """Attach each problem record to its incident; records are taken in time order.

        Records may be new and not yet written: the caller inserts them afterwards, with the
        incident_id set here. ``actors`` names, by record id, who sent each record (records of
        several departments are placed together); the placer's own actor otherwise.
        """
        records = [r for r in records if r.is_problem]
        if not records:
            return
        await self._load_candidates(records)
        await self._reserve_ids(len(records))  # at most one new incident a record
        with self.uow.session.no_autoflush:  # nothing goes out before _write orders it
            for record in sorted(records, key=lambda r: (r.occurred_at, r.id)):
                if actors is not None:
                    self.actor = actors[record.id]  # the events this record causes are its sender's
                await self.place_one(record, entities.get(record.entity_id) if record.entity_id else None)
        await self._write()

    async def merge(self, absorbed: Incident, survivor: Incident, reason: str) -> None:
        """Merge one stored incident into another (an operator's decision)."""
        await self._merge(absorbed, survivor, reason)
        await self._write()

    async def place_one(self, record: PlacedRecord, entity: PlacedEntity | None) -> IncidentState:
        pool = self._pool(record)
        decision = place_report(report_facts(record), [c.facts() for c in pool], self.rules.merge)
        if decision.join is None:
            return await self._open(record, entity)
        survivor = self._loaded[int(decision.join)]
        await self._attach(survivor, record)
        for other_id in decision.absorb:
            await self._merge(self._loaded[int(other_id)], survivor, reason="a report links both")
        return survivor.incident

    async def relocate(
        self,
        record: PlacedRecord,
        entity: PlacedEntity | None,
        current: Incident | None,
        *,
        change: str,
        reason: str,
    ) -> IncidentState:
        """Re-place a stored record whose entity, category or time has changed: an operator linked
        it (``change`` "entity_linked"), or its department revised it ("report_revised").

        An incident holding only this report is changed in place, or merged into the open incident
        the record now joins; an incident with other reports too gives this one up.
        """
        await self._load_candidates([record])
        await self._reserve_ids(1)
        with self.uow.session.no_autoflush:
            incident = await self._relocate(record, entity, current, change, reason)
        await self._write()
        return incident

    async def _relocate(
        self, record: PlacedRecord, entity: PlacedEntity | None, current: Incident | None, change: str, reason: str
    ) -> IncidentState:
        if current is None or current.status not in OPEN_STATUSES:
            return await self.place_one(record, entity)
        pool = [c for c in self._pool(record) if c.incident.id != current.id]
        decision = place_report(report_facts(record), [c.facts() for c in pool], self.rules.merge)
        alone = current.report_count <= 1
        if decision.join is None and alone:
            self._take_facts(current, record, entity)
            await record_change(
                self.uow,
                current,
                change,
                self.actor,
                {"entity_id": record.entity_id, "record_id": record.id, "category": record.category},
            )
            return current
        if decision.join is not None and alone:
            survivor = self._loaded[int(decision.join)]
            await self._merge(current, survivor, reason=reason)
            for other_id in decision.absorb:
                await self._merge(self._loaded[int(other_id)], survivor, reason="a report links both")
            return survivor.incident
        await self._detach(current, record, reason)
        return await self.place_one(record, entity)

    def _take_facts(self, incident: Incident, record: PlacedRecord, entity: PlacedEntity | None) -> None:
        """An incident of one report follows that report: its entity, category, place and time."""
        incident.entity_id = entity.id if entity else None
        incident.entity_name = entity.name if entity else None
        incident.address = (entity.address if entity and entity.address else None) or record.address
        located = entity is not None and entity.lat is not None and entity.lng is not None
        incident.lat = entity.lat if located and entity else record.lat
        incident.lng = entity.lng if located and entity else record.lng
        incident.grid = entity.grid if entity else None
        if incident.category != record.category:
            rule = self.rules.sla.get(record.category)
            incident.due_at = compute_due_at(record.occurred_at, rule) if rule else None
            incident.overdue = is_overdue(incident.due_at, utcnow())
        incident.category, incident.severity, incident.title = record.category, record.severity, record.title[:300]
        incident.first_reported_at = incident.last_reported_at = record.occurred_at

    async def _detach(self, incident: Incident, record: PlacedRecord, reason: str) -> None:
        others = (
            await self.uow.session.execute(
                select(func.min(SourceRecord.occurred_at), func.max(SourceRecord.occurred_at)).where(
                    SourceRecord.incident_id == incident.id, SourceRecord.id != record.id
                )
            )
        ).one()
        incident.report_count -= 1
        if others[0] is not None:
            incident.first_reported_at, incident.last_reported_at = others[0], others[1]
        data = {"record_id": record.id, "reason": reason}
        await record_change(self.uow, incident, "report_detached", self.actor, data)
        record.incident_id = None

    def _pool(self, record: PlacedRecord) -> list[_Candidate]:
        """The open incidents the record could join. Every report of an incident lies between its
        first and last, so one that ends more than the window before the record, or starts more
        than the window after it, has no report close enough in time (the query's own test)."""
        if record.entity_id is not None:
            pool = self._by_entity.get((record.entity_id, record.category), [])
        else:
            pool = self._by_place.get(record.category, [])
        window, at = self.rules.merge.window, record.occurred_at
        return [
            c
            for c in pool
            if c.incident.status in OPEN_STATUSES
            and c.incident.first_reported_at - window <= at <= c.incident.last_reported_at + window
        ]

    def _remember(self, candidate: _Candidate) -> None:
        incident = candidate.incident
        self._loaded[incident.id] = candidate
        if incident.entity_id is not None:
            self._by_entity[(incident.entity_id, incident.category)].append(candidate)
        else:
            self._by_place[incident.category].append(candidate)

    async def _load_candidates(self, records: Iterable[PlacedRecord]) -> None:
        """Open incidents that any of these records could join, with their reports' times and places."""
        entity_keys = {(r.entity_id, r.category) for r in records if r.entity_id is not None}
        placed = [r for r in records if r.entity_id is None and r.lat is not None and r.lng is not None]
        session = self.uow.session
        conditions: list[ColumnElement[bool]] = []
        if entity_keys:
            # The entity ids alone let the index narrow the rows before the pairs are checked.
            entity_ids = sorted({entity_id for entity_id, _ in entity_keys})
            conditions.append(
                and_(
                    await in_values(session, Incident.entity_id, entity_ids),
                    await in_pairs(session, Incident.entity_id, Incident.category, sorted(entity_keys)),
                )
            )
        if placed:
            margin_lat = self.rules.merge.distance_m / METRES_PER_DEGREE_LAT
            lats = [r.lat for r in placed if r.lat is not None]
            lngs = [r.lng for r in placed if r.lng is not None]
            margin_lng = margin_lat / max(0.1, math.cos(math.radians(max(abs(x) for x in lats))))
            # The incident's own location is one of its reports'; a wider box covers the others.
            conditions.append(
                and_(
                    Incident.entity_id.is_(None),
                    Incident.category.in_({r.category for r in placed}),
                    Incident.lat.between(min(lats) - 20 * margin_lat, max(lats) + 20 * margin_lat),
                    Incident.lng.between(min(lngs) - 20 * margin_lng, max(lngs) + 20 * margin_lng),
                )
            )
        if not conditions:
            return
        # Every report of an incident lies between its first and last: an incident that ends more
        # than the window before these records, or starts more than it after, is joined by none.
        times = [r.occurred_at for r in records]
        window = self.rules.merge.window
        rows = await session.execute(
            select(*Incident.__table__.columns).where(
                Incident.status.in_(OPEN_STATUSES),
                Incident.last_reported_at >= min(times) - window,
                Incident.first_reported_at <= max(times) + window,
                or_(*conditions),
            )
        )
        new = [self._state_of(row) for row in rows if row.id not in self._loaded]
        if not new:
            return
        reports = await session.execute(
            select(SourceRecord.incident_id, SourceRecord.occurred_at, SourceRecord.lat, SourceRecord.lng).where(
                await in_values(session, SourceRecord.incident_id, [i.id for i in new])
            )
        )
        by_incident: dict[int, list[tuple[datetime, tuple[float, float] | None]]] = defaultdict(list)
        for row in reports:
            location = None if row.lat is None or row.lng is None else (row.lat, row.lng)
            by_incident[row.incident_id].append((row.occurred_at, location))
        for incident in new:
            self._remember(_Candidate(incident, by_incident.get(incident.id, [])))

    def _state_of(self, row: Row[Any]) -> IncidentState:
        """The session's mapped object for this incident if it holds one (it may carry changes not
        written yet), else a plain row that _write updates if placement changes it."""
        held = self.uow.session.identity_map.get(identity_key(Incident, row.id))
        if isinstance(held, Incident):
            return held
        incident = IncidentRow(**row._mapping)
        self._read[incident.id] = (incident, incident.version)
        return incident

    async def _reserve_ids(self, count: int) -> None:
        """Take incident ids up front, so opening an incident costs no statement of its own."""
        self._free_ids = sorted(
            [*self._free_ids, *await reserve_ids(self.uow.session, "incidents", count)], reverse=True
        )  # pop() hands out the lowest

    def _next_id(self) -> int:
        return self._free_ids.pop()  # place and relocate reserve one for each incident they may open

    async def _write(self) -> None:
        """Write what the decisions left in memory: opened incidents first, then the candidates read
        as rows that changed (every change bumps the version), then stored records moved by merges.
        Changes to mapped incidents go out with the session's next flush."""
        session = self.uow.session
        if self._opened:
            rows = [incident.row() for incident in self._opened]
            await insert_rows(session, "incidents", sorted(rows, key=lambda row: row["id"]))
            self._opened.clear()
        changed = sorted((i for i, version in self._read.values() if i.version != version), key=lambda i: i.id)
        if changed:
            await session.execute(update(Incident), [incident.row() for incident in changed])  # by primary key
        self._read = {id_: (incident, incident.version) for id_, (incident, _) in self._read.items()}
        for gone, kept in self._moves:
            # "fetch" brings the moved rows' ids back and updates just those records in the session;
            # the default would test every record the session holds (thousands in a batch) one by one.
            await session.execute(
                update(SourceRecord)
                .where(SourceRecord.incident_id == gone)
                .values(incident_id=kept)
                .execution_options(synchronize_session="fetch")
            )
        self._moves.clear()

    async def _open(self, record: PlacedRecord, entity: PlacedEntity | None) -> IncidentRow:
        now = utcnow()
        rule = self.rules.sla.get(record.category)
        due_at = compute_due_at(record.occurred_at, rule) if rule else None
        incident = IncidentRow(
            id=self._next_id(),
            entity_id=entity.id if entity else None,
            entity_name=entity.name if entity else None,
            category=record.category,
            severity=record.severity,
            status="new",
            title=record.title[:300],
            address=(entity.address if entity and entity.address else record.address),
            lat=entity.lat if entity and entity.lat is not None else record.lat,
            lng=entity.lng if entity and entity.lng is not None else record.lng,
            grid=entity.grid if entity else None,
            sources=[record.source],
            report_count=1,
            first_reported_at=record.occurred_at,
            last_reported_at=record.occurred_at,
            due_at=due_at,
            overdue=is_overdue(due_at, now),
            version=0,
            created_at=now,
            updated_at=now,
        )
        self._opened.append(incident)
        record.incident_id = incident.id
        self._placed.append(record)
        self._remember(_Candidate(incident, [(record.occurred_at, _location(record))]))
        await record_change(self.uow, incident, "created", self.actor, _report_data(record))
        return incident

    async def _attach(self, candidate: _Candidate, record: PlacedRecord) -> None:
        incident = candidate.incident
        record.incident_id = incident.id
        self._placed.append(record)
        candidate.reports.append((record.occurred_at, _location(record)))
        incident.report_count += 1
        if record.source not in incident.sources:
            incident.sources = [*incident.sources, record.source]
        incident.first_reported_at = min(incident.first_reported_at, record.occurred_at)
        incident.last_reported_at = max(incident.last_reported_at, record.occurred_at)
        incident.severity = more_severe(incident.severity, record.severity)
        await record_change(self.uow, incident, "report_attached", self.actor, _report_data(record))

    async def _merge(
        self, absorbed: _Candidate | IncidentState, survivor: _Candidate | IncidentState, reason: str
    ) -> None:
        """Move every report of ``absorbed`` into ``survivor``; ``absorbed`` ends as merged."""
        source = absorbed if isinstance(absorbed, _Candidate) else self._loaded.get(absorbed.id) or _Candidate(absorbed)
        target = survivor if isinstance(survivor, _Candidate) else self._loaded.get(survivor.id) or _Candidate(survivor)
        gone, kept = source.incident, target.incident
        for record in self._placed:
            if record.incident_id == gone.id:
                record.incident_id = kept.id
        if all(incident is not gone for incident in self._opened):
            self._moves.append((gone.id, kept.id))  # stored records may point at it
        target.reports.extend(source.reports)
        kept.report_count += gone.report_count
        kept.sources = sorted(set(kept.sources) | set(gone.sources))
        kept.first_reported_at = min(kept.first_reported_at, gone.first_reported_at)
        kept.last_reported_at = max(kept.last_reported_at, gone.last_reported_at)
        kept.severity = more_severe(kept.severity, gone.severity)
        if gone.due_at and (kept.due_at is None or gone.due_at < kept.due_at):
            kept.due_at, kept.overdue = gone.due_at, gone.overdue or kept.overdue
        kept.assignee = kept.assignee or gone.assignee
        gone.status, gone.merged_into = MERGED, kept.id
        await record_change(self.uow, gone, "merged", self.actor, {"into": kept.id, "reason": reason})
        await record_change(
            self.uow,
            kept,
            "absorbed",
            self.actor,
            {"from": gone.id, "report_count": gone.report_count, "reason": reason},
        )


def _report_data(record: PlacedRecord) -> dict[str, object]:
    return {
        "record_id": record.id,
        "source": record.source,
        "source_record_id": record.source_record_id,
        "category": record.category,
        "title": record.title,
        "occurred_at": record.occurred_at.isoformat(),
        "entity_id": record.entity_id,
    }

