"""Putting problem reports into incidents: open, join, or join and merge what a report bridges.

The decision for each report is merging.place_report (pure); a ``PlacementPass`` loads the
incidents a transaction's reports could join, applies the decisions and writes each step to the
ledger. Every incident it reads or opens is an ``IncidentRow`` (one representation, whatever the
session holds), and decisions are written afterwards in bulk: the incidents a pass opens in one
insert, before anything that points at them (records, merged incidents), and those it changed in
one update by primary key.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import ColumnElement, and_, or_, select, update

from service.db.bulk import insert_rows
from service.db.database import UnitOfWork
from service.db.ids import reserve_ids
from service.db.lists import in_pairs, in_values
from service.incidents import lifecycle
from service.incidents.lifecycle import OPEN_STATUSES
from service.incidents.merging import IncidentFacts, MergeSettings, ReportFacts, place_report
from service.incidents.models import Incident, IncidentRow
from service.incidents.projection import record_change
from service.incidents.sla import SlaRule, compute_due_at, is_overdue
from service.kit.clock import utcnow
from service.matching.geo import METRES_PER_DEGREE_LAT
from service.records.models import SourceRecord
from service.vocabulary import SEVERITIES, Category, Severity, Status


class PlacedRecord(Protocol):
    """What placement reads of a record: a stored SourceRecord, or a new one about to be inserted."""

    id: int
    source: str
    source_record_id: str
    entity_id: str | None
    category: Category
    occurred_at: datetime
    lat: float | None
    lng: float | None
    title: str
    address: str | None
    severity: Severity
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


@dataclass(frozen=True, slots=True)
class Report:
    """A problem record to place, who sent it (its events name them) and the entity it is linked to."""

    record: PlacedRecord
    actor: str
    entity: PlacedEntity | None


Location = tuple[float, float] | None


class _Held(NamedTuple):
    """What an incident's placement needs of one report it holds."""

    at: datetime
    location: Location
    source: str


@dataclass
class _Candidate:
    incident: IncidentRow
    reports: dict[int, _Held] = field(default_factory=dict)  # by record id

    def facts(self) -> IncidentFacts:
        reports = list(self.reports.values())
        return IncidentFacts(
            incident_id=str(self.incident.id),
            entity_id=self.incident.entity_id,
            category=self.incident.category,
            status=self.incident.status,
            lat=self.incident.lat,
            lng=self.incident.lng,
            report_times=tuple(held.at for held in reports),
            first_reported_at=self.incident.first_reported_at,
            report_locations=tuple(held.location for held in reports),
        )


# The rejection of an incident whose only reports were revised into "not a problem" (operators read it).
WITHDRAWN_NOTE = "上报部门修订记录后，已不属于问题"


def _held(record: PlacedRecord) -> _Held:
    return _Held(record.occurred_at, _location(record), record.source)


def _location(record: PlacedRecord) -> Location:
    return None if record.lat is None or record.lng is None else (record.lat, record.lng)


def report_facts(record: PlacedRecord) -> ReportFacts:
    return ReportFacts(str(record.id), record.entity_id, record.category, record.occurred_at, record.lat, record.lng)


def placement_lock(entity_id: str | None, category: str) -> str:
    """The name a writer locks before placing a report (service/db/locks.py): what the report may
    join is decided within it — its entity and category, or, for a report at no entity, its
    category (the nearby reports may lie anywhere on the street)."""
    return f"place:{category}:{entity_id}" if entity_id is not None else f"place:{category}:*"


def more_severe(a: Severity, b: Severity) -> Severity:
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return a if rank.get(a, 1) >= rank.get(b, 1) else b


class PlacementPass:
    """One transaction's placement. ``load`` reads the incidents its reports could join (and any it
    names); ``place``, ``relocate``, ``note`` and ``merge`` decide in memory and append the ledger
    events; ``write`` writes the incidents and moves stored records. Records placed here get their
    incident_id set; new ones are inserted by the caller afterwards."""

    def __init__(self, uow: UnitOfWork, rules: PlacementRules):
        self.uow = uow
        self.rules = rules
        self._by_entity: dict[tuple[str, str], list[_Candidate]] = defaultdict(list)
        self._by_place: dict[str, list[_Candidate]] = defaultdict(list)
        self._loaded: dict[int, _Candidate] = {}
        self._free_ids: list[int] = []
        self._opened: list[IncidentRow] = []  # not written yet: see write
        self._read: dict[int, int] = {}  # incidents read from the database, and their version then
        self._placed: list[PlacedRecord] = []  # records this pass put into an incident
        self._moves: list[tuple[int, int]] = []  # (from, to): stored records to move, in order

    async def load(
        self, records: Iterable[PlacedRecord], incident_ids: Collection[int] = (), *, lock: bool = False
    ) -> None:
        """Read the open incidents these records could join, and the incidents named by id, with
        their reports' times and places; reserve an incident id for each record (it may open one).
        ``lock`` reads them FOR UPDATE: the pass writes them, and concurrent writers of an incident
        (workflow, escalation, another worker's pass) take its row lock before the ledger's."""
        problems = [r for r in records if r.is_problem]
        named = [i for i in incident_ids if i not in self._loaded]
        if problems or named:
            await self._load(problems, named, lock)
        if problems:
            await self._reserve_ids(len(problems))

    def incident(self, incident_id: int) -> IncidentRow:
        """An incident ``load`` read."""
        return self._loaded[incident_id].incident

    async def place(self, report: Report) -> IncidentRow:
        """Attach a problem record to the incident it joins (merging those it bridges), or open one."""
        record = report.record
        decision = place_report(report_facts(record), [c.facts() for c in self._pool(record)], self.rules.merge)
        if decision.join is None:
            return await self._open(report)
        survivor = self._loaded[int(decision.join)]
        await self._attach(survivor, report)
        for other_id in decision.absorb:
            await self._merge(self._loaded[int(other_id)], survivor, report.actor, reason="a report links both")
        return survivor.incident

    async def relocate(self, report: Report, incident_id: int, *, change: str, reason: str) -> IncidentRow:
        """Place again a stored record in incident ``incident_id`` whose entity, category, time or
        place changed: an operator linked it (``change`` "entity_linked"), or its department revised
        it ("report_revised").

        An open incident holding only this report is changed in place, or merged into the open
        incident the record now joins; an incident with other reports too gives this one up.
        """
        record = report.record
        current = self._loaded[incident_id]
        if current.incident.status not in OPEN_STATUSES:
            current.reports.pop(record.id, None)
            return await self.place(report)
        pool = [c for c in self._pool(record) if c is not current]
        decision = place_report(report_facts(record), [c.facts() for c in pool], self.rules.merge)
        if current.incident.report_count <= 1:  # alone
            if decision.join is None:
                self._take_facts(current, report)
                data = {"entity_id": record.entity_id, "record_id": record.id, "category": record.category}
                await self._change(current.incident, change, report.actor, data)
                return current.incident
            survivor = self._loaded[int(decision.join)]
            await self._merge(current, survivor, report.actor, reason=reason)
            for other_id in decision.absorb:
                await self._merge(self._loaded[int(other_id)], survivor, report.actor, reason="a report links both")
            return survivor.incident
        await self._detach(current, report, reason)
        return await self.place(report)

    async def withdraw(self, report: Report, incident_id: int, reason: str) -> IncidentRow:
        """Take a stored record that is no longer a problem (its department revised it) out of incident
        ``incident_id``. An open incident left without reports is rejected if nobody has started on it
        yet; one being worked stays for its operator to close. A finished incident keeps its history."""
        record, candidate = report.record, self._loaded[incident_id]
        incident = candidate.incident
        if incident.status not in OPEN_STATUSES:
            candidate.reports.pop(record.id, None)
            record.incident_id = None
            return incident
        await self._detach(candidate, report, reason)
        if incident.report_count <= 0 and Status.REJECTED in lifecycle.allowed_transitions(incident.status):
            previous = incident.status
            incident.status = Status.REJECTED
            incident.resolved_at = incident.resolved_at or utcnow()
            incident.resolution_note = WITHDRAWN_NOTE
            data = {"from": previous, "to": Status.REJECTED, "note": WITHDRAWN_NOTE}
            await self._change(incident, "status_changed", report.actor, data)
        return incident

    async def note(self, incident_id: int, type: str, actor: str, data: dict[str, Any]) -> None:
        """A change to a loaded incident that moves no report (a report of it was updated)."""
        await self._change(self._loaded[incident_id].incident, type, actor, data)

    async def merge(self, absorbed_id: int, survivor_id: int, actor: str, reason: str) -> None:
        """Merge one loaded incident into another (an operator's decision)."""
        await self._merge(self._loaded[absorbed_id], self._loaded[survivor_id], actor, reason)

    async def write(self) -> None:
        """Write what the decisions left in memory, in foreign-key order: opened incidents, the
        incidents read that changed (every change bumps the version), the session's records (a
        stored record may now point at an opened incident), then stored records moved by merges."""
        session = self.uow.session
        if self._opened:
            rows = [incident.row() for incident in self._opened]
            await insert_rows(session, "incidents", sorted(rows, key=lambda row: row["id"]))
            self._opened.clear()
        changed = sorted(
            (
                c.incident
                for id_, c in self._loaded.items()
                if id_ in self._read and c.incident.version != self._read[id_]
            ),
            key=lambda incident: incident.id,
        )
        if changed:
            await session.execute(update(Incident), [incident.row() for incident in changed])  # by primary key
        self._read = {id_: self._loaded[id_].incident.version for id_ in self._read}
        await session.flush()
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

    # --- decisions ------------------------------------------------------------------------------

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

    def _forget(self, candidate: _Candidate) -> None:
        incident = candidate.incident
        if incident.entity_id is not None:
            self._by_entity[(incident.entity_id, incident.category)].remove(candidate)
        else:
            self._by_place[incident.category].remove(candidate)

    def _take_facts(self, candidate: _Candidate, report: Report) -> None:
        """An incident of one report follows that report: its entity, category, place and time."""
        record, entity, incident = report.record, report.entity, candidate.incident
        self._forget(candidate)  # its key may change
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
        candidate.reports[record.id] = _held(record)
        self._remember(candidate)

    async def _detach(self, candidate: _Candidate, report: Report, reason: str) -> None:
        incident, record = candidate.incident, report.record
        candidate.reports.pop(record.id, None)
        incident.report_count -= 1
        if candidate.reports:
            times = [held.at for held in candidate.reports.values()]
            incident.first_reported_at, incident.last_reported_at = min(times), max(times)
            still = {held.source for held in candidate.reports.values()}
            incident.sources = [source for source in incident.sources if source in still]
        data = {"record_id": record.id, "reason": reason}
        await self._change(incident, "report_detached", report.actor, data)
        record.incident_id = None

    async def _open(self, report: Report) -> IncidentRow:
        record, entity = report.record, report.entity
        now = utcnow()
        rule = self.rules.sla.get(record.category)
        due_at = compute_due_at(record.occurred_at, rule) if rule else None
        incident = IncidentRow(
            id=await self._next_id(),
            entity_id=entity.id if entity else None,
            entity_name=entity.name if entity else None,
            category=record.category,
            severity=record.severity,
            status=Status.NEW,
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
        self._remember(_Candidate(incident, {record.id: _held(record)}))
        await self._change(incident, "created", report.actor, _report_data(record))
        return incident

    async def _attach(self, candidate: _Candidate, report: Report) -> None:
        incident, record = candidate.incident, report.record
        record.incident_id = incident.id
        self._placed.append(record)
        candidate.reports[record.id] = _held(record)
        incident.report_count += 1
        if record.source not in incident.sources:
            incident.sources = [*incident.sources, record.source]
        incident.first_reported_at = min(incident.first_reported_at, record.occurred_at)
        incident.last_reported_at = max(incident.last_reported_at, record.occurred_at)
        incident.severity = more_severe(incident.severity, record.severity)
        await self._change(incident, "report_attached", report.actor, _report_data(record))

    async def _merge(self, source: _Candidate, target: _Candidate, actor: str, reason: str) -> None:
        """Move every report of ``source`` into ``target``; ``source`` ends as merged."""
        gone, kept = source.incident, target.incident
        for record in self._placed:
            if record.incident_id == gone.id:
                record.incident_id = kept.id
        if all(incident is not gone for incident in self._opened):
            self._moves.append((gone.id, kept.id))  # stored records may point at it
        target.reports.update(source.reports)
        kept.report_count += gone.report_count
        kept.sources = sorted(set(kept.sources) | set(gone.sources))
        kept.first_reported_at = min(kept.first_reported_at, gone.first_reported_at)
        kept.last_reported_at = max(kept.last_reported_at, gone.last_reported_at)
        kept.severity = more_severe(kept.severity, gone.severity)
        if gone.due_at and (kept.due_at is None or gone.due_at < kept.due_at):
            kept.due_at, kept.overdue = gone.due_at, gone.overdue or kept.overdue
        kept.assignee = kept.assignee or gone.assignee
        gone.status, gone.merged_into = Status.MERGED, kept.id
        await self._change(gone, "merged", actor, {"into": kept.id, "reason": reason})
        await self._change(
            kept, "absorbed", actor, {"from": gone.id, "report_count": gone.report_count, "reason": reason}
        )

    async def _change(self, incident: IncidentRow, type: str, actor: str, data: dict[str, Any]) -> None:
        with self.uow.session.no_autoflush:  # records may point at incidents write() has yet to insert
            await record_change(self.uow, incident, type, actor, data)

    # --- reading and ids ------------------------------------------------------------------------

    async def _load(self, records: Sequence[PlacedRecord], incident_ids: Sequence[int], lock: bool) -> None:
        """Open incidents that any of these records could join, and those named, with their reports."""
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
        wanted: list[ColumnElement[bool]] = []
        if conditions:
            # Every report of an incident lies between its first and last: an incident that ends more
            # than the window before these records, or starts more than it after, is joined by none.
            times = [r.occurred_at for r in records]
            window = self.rules.merge.window
            wanted.append(
                and_(
                    Incident.status.in_(OPEN_STATUSES),
                    Incident.last_reported_at >= min(times) - window,
                    Incident.first_reported_at <= max(times) + window,
                    or_(*conditions),
                )
            )
        if incident_ids:
            wanted.append(await in_values(session, Incident.id, sorted(incident_ids)))
        if not wanted:
            return
        query = select(*Incident.__table__.columns).where(or_(*wanted)).order_by(Incident.id)
        rows = await session.execute(query.with_for_update() if lock else query)
        new = [IncidentRow(**row._mapping) for row in rows if row.id not in self._loaded]
        if not new:
            return
        reports = await session.execute(
            select(
                SourceRecord.id,
                SourceRecord.incident_id,
                SourceRecord.occurred_at,
                SourceRecord.lat,
                SourceRecord.lng,
                SourceRecord.source,
            ).where(await in_values(session, SourceRecord.incident_id, [i.id for i in new]))
        )
        by_incident: dict[int, dict[int, _Held]] = defaultdict(dict)
        for row in reports:
            location = None if row.lat is None or row.lng is None else (row.lat, row.lng)
            by_incident[row.incident_id][row.id] = _Held(row.occurred_at, location, row.source)
        for incident in new:
            self._read[incident.id] = incident.version
            self._remember(_Candidate(incident, by_incident.get(incident.id, {})))

    async def _reserve_ids(self, count: int) -> None:
        """Take incident ids up front, so opening an incident costs no statement of its own."""
        reserved = await reserve_ids(self.uow.session, "incidents", count)
        self._free_ids = sorted([*self._free_ids, *reserved], reverse=True)  # pop() hands out the lowest

    async def _next_id(self) -> int:
        if not self._free_ids:
            with self.uow.session.no_autoflush:  # as in _change
                await self._reserve_ids(1)
        return self._free_ids.pop()


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
