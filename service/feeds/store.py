"""Storing parsed records: insert the new, keep each revision, and place the problems into incidents.

One call stores one group of records, whatever their sources, in the caller's transaction, and
returns what became of each. The records already stored are read once; the new ones are written
in one insert; every placement decision of the group — new problems, and revised reports that
moved — is made in one placement pass over one set of candidate incidents.

The ledger lock is not held for any of it: the group's events are numbered at commit. Other
workers may store at the same time, so on PostgreSQL, in this order (every writer takes its locks
in it, so none waits for another that waits for it):
1. the stored records it revises, FOR UPDATE (the read that finds them);
2. the placement key of every report it places — entity and category, or category alone for a
   report at no entity — as advisory locks: two workers placing reports of one problem wait for
   each other, so the second sees the incident the first opened;
3. the incidents it may join or change, FOR UPDATE (workflow writers lock an incident's row
   before the ledger too);
4. the ledger lock, at commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.bulk import insert_rows
from service.db.database import UnitOfWork
from service.db.ids import reserve_ids
from service.db.lists import in_pairs, in_values
from service.db.locks import lock_names
from service.feeds.normalized import REVISION_KEY_PREFIX, NormalizedRecord
from service.incidents.placement import PlacedEntity, PlacementPass, PlacementRules, Report, placement_lock
from service.kit.clock import utcnow
from service.ledger.service import number_at_commit
from service.matching.matcher import MatchResult
from service.matching.uscc import is_valid_uscc, normalize_uscc
from service.records.models import SourceRecord
from service.registry.models import Entity
from service.vocabulary import Category, Severity, Status


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    """A record ready to store: normalised, matched, hashed, and who sent it (its events name them)."""

    record: NormalizedRecord
    match: MatchResult
    content_hash: str
    actor: str

    @property
    def key(self) -> tuple[str, str]:
        return self.record.source, self.record.source_record_id


@dataclass(frozen=True, slots=True)
class Stored:
    """What storing one record came to."""

    status: str  # created | updated | unchanged
    record_id: int
    entity_id: str | None
    incident_id: int | None


@dataclass(slots=True)
class NewRecord:
    """A source_records row about to be inserted (the columns of SourceRecord, as plain fields).

    Placement sets its incident_id; then the group's new records go out in one insert. Building
    mapped objects instead cost more than matching and merging together.
    """

    id: int
    source: str
    source_record_id: str
    received_at: datetime
    updated_at: datetime
    occurred_at: datetime
    revision: int = 1
    content_hash: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    category: Category = Category.OTHER  # this and the rest: the normalized record's (see _apply)
    is_problem: bool = False
    title: str = ""
    description: str = ""
    name: str | None = None
    address: str | None = None
    uscc: str | None = None
    uscc_valid: bool | None = None
    lat: float | None = None
    lng: float | None = None
    severity: Severity = Severity.MEDIUM
    status_text: str | None = None
    theme: str | None = None
    entity_id: str | None = None
    match_method: str | None = None
    match_score: float | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)
    incident_id: int | None = None

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass
class _Revised:
    """A stored record in an incident that this group revised (once or more)."""

    record: SourceRecord
    incident_id: int
    actor: str
    previous_status: str | None
    moved: bool  # its entity, category, time or (at no entity) place changed: it is placed again


async def store_records(uow: UnitOfWork, items: Sequence[ParsedRecord], rules: PlacementRules) -> list[Stored]:
    """Store one group of records and place its problems; what became of each item, in their order."""
    session = uow.session
    number_at_commit(uow)
    keys_in = await _keys_in(session, {i.key for i in items})
    stored = {
        (r.source, r.source_record_id): r
        for r in await session.scalars(select(SourceRecord).where(keys_in).order_by(SourceRecord.id).with_for_update())
    }
    new_records = await _new_records(session, [item for item in items if item.key not in stored])
    entities = await _entities(session, {item.match.entity_id for item in items if item.match.entity_id})

    records: dict[tuple[str, str], SourceRecord | NewRecord] = dict(stored)
    statuses: list[str] = []
    to_place: dict[int, tuple[SourceRecord | NewRecord, str]] = {}  # record id → (record, who sent it)
    revised: dict[int, _Revised] = {}
    revisions: list[dict[str, Any]] = []
    now = utcnow()
    for item in items:
        record = records.get(item.key)
        if record is None:
            record = records[item.key] = new_records[item.key]
            statuses.append("created")
            to_place[record.id] = (record, item.actor)
        elif record.content_hash == item.content_hash or _older_revision(item.content_hash, record.content_hash):
            statuses.append("unchanged")
        else:
            revisions.append(
                {
                    "record_id": record.id,
                    "revision": record.revision,
                    "content_hash": record.content_hash,
                    "payload": record.payload,
                    "received_at": record.updated_at,
                }
            )
            previous_status, previous_place = record.status_text, _place(record)
            _apply(record, item, now)
            record.revision += 1
            statuses.append("updated")
            if isinstance(record, SourceRecord) and record.incident_id is not None:
                moved = record.is_problem and _place(record) != previous_place
                earlier = revised.get(record.id)
                if earlier is None:
                    revised[record.id] = _Revised(record, record.incident_id, item.actor, previous_status, moved)
                else:
                    earlier.actor, earlier.moved = item.actor, earlier.moved or moved
            elif record.id not in to_place:  # a record is placed once, in its final state
                to_place[record.id] = (record, item.actor)  # e.g. an inspection now found wanting

    linked = {r.entity_id for r, _ in to_place.values()} | {r.record.entity_id for r in revised.values()}
    missing = {entity_id for entity_id in linked if entity_id and entity_id not in entities}  # operators' links
    if missing:
        entities = {**entities, **await _entities(session, missing)}

    def report(record: SourceRecord | NewRecord, actor: str) -> Report:
        return Report(record, actor, entities.get(record.entity_id) if record.entity_id else None)

    placing: list[SourceRecord | NewRecord] = [record for record, _ in to_place.values()]
    placing += [r.record for r in revised.values() if r.moved]
    await lock_names(session, {placement_lock(r.entity_id, r.category) for r in placing if r.is_problem})
    placement = PlacementPass(uow, rules)
    await placement.load(placing, {r.incident_id for r in revised.values()}, lock=True)
    for record, actor in sorted(to_place.values(), key=lambda pair: (pair[0].occurred_at, pair[0].id)):
        if record.is_problem:
            await placement.place(report(record, actor))
    for change in revised.values():
        incident_id = _followed(placement, change.incident_id)
        data = {
            "record_id": change.record.id,
            "source": change.record.source,
            "source_record_id": change.record.source_record_id,
            "revision": change.record.revision,
            "status_text": change.record.status_text,
            "previous_status_text": change.previous_status,
        }
        await placement.note(incident_id, "report_updated", change.actor, data)
        if not change.record.is_problem:  # an inspection found wanting, revised to "passed"
            await placement.withdraw(report(change.record, change.actor), incident_id, "revised: not a problem")
        elif change.moved:  # it may belong in another incident now
            await placement.relocate(
                report(change.record, change.actor),
                incident_id,
                change="report_revised",
                reason="revised by its department",
            )
    await placement.write()
    await insert_rows(session, "source_records", [record.row() for record in new_records.values()])
    await insert_rows(session, "source_record_revisions", revisions)

    outcomes = []
    for item, status in zip(items, statuses, strict=True):
        record = records[item.key]
        outcomes.append(Stored(status, record.id, record.entity_id, record.incident_id))
    return outcomes


def _place(record: SourceRecord | NewRecord) -> tuple[object, ...]:
    """What decides where a report goes: its entity, category and time, and its place when it has no entity."""
    where = (record.lat, record.lng) if record.entity_id is None else None
    return (record.entity_id, record.category, record.occurred_at, where)


def _followed(placement: PlacementPass, incident_id: int) -> int:
    """The incident that holds a stored record's reports now: the one it names, or (if this pass
    merged that one) the incident it was merged into."""
    incident = placement.incident(incident_id)
    while incident.status == Status.MERGED and incident.merged_into is not None:
        try:
            incident = placement.incident(incident.merged_into)
        except KeyError:  # merged before this pass: its reports left with it
            break
    return incident.id


async def _new_records(session: AsyncSession, items: list[ParsedRecord]) -> dict[tuple[str, str], NewRecord]:
    """The rows of the records not stored yet, the first item of each key (ids reserved here)."""
    first_of_each: dict[tuple[str, str], ParsedRecord] = {}
    for item in items:
        first_of_each.setdefault(item.key, item)
    ids = await reserve_ids(session, "source_records", len(first_of_each))
    now = utcnow()
    new_records: dict[tuple[str, str], NewRecord] = {}
    for record_id, ((source, source_record_id), item) in zip(ids, first_of_each.items(), strict=True):
        record = NewRecord(record_id, source, source_record_id, now, now, item.record.occurred_at)
        _apply(record, item, now)
        new_records[item.key] = record
    return new_records


async def _keys_in(session: AsyncSession, keys: set[tuple[str, str]]) -> ColumnElement[bool]:
    return await in_pairs(session, SourceRecord.source, SourceRecord.source_record_id, sorted(keys))


async def _entities(session: AsyncSession, ids: set[str]) -> dict[str, PlacedEntity]:
    """What incidents take from the entities the records were matched to."""
    if not ids:
        return {}
    rows = await session.execute(
        select(Entity.id, Entity.name, Entity.address, Entity.lat, Entity.lng, Entity.grid).where(
            await in_values(session, Entity.id, ids)
        )
    )
    return {row.id: row for row in rows}


def _apply(record: SourceRecord | NewRecord, item: ParsedRecord, now: datetime) -> None:
    normalized, match = item.record, item.match
    record.content_hash = item.content_hash
    record.payload = normalized.payload
    record.category = normalized.category
    record.is_problem = normalized.is_problem
    record.occurred_at = normalized.occurred_at
    record.title = normalized.title[:300]
    record.description = normalized.description
    record.name = normalized.name
    record.address = normalized.address
    record.uscc = normalize_uscc(normalized.uscc) if normalized.uscc else None
    record.uscc_valid = is_valid_uscc(record.uscc) if record.uscc else None
    record.lat, record.lng = normalized.lat, normalized.lng
    record.severity = normalized.severity
    record.status_text = normalized.status_text
    record.theme = normalized.theme
    if record.match_method != "operator":  # an operator's link is never overridden by a resend
        record.entity_id = match.entity_id
        record.match_method = match.method if match.entity_id else None
        record.match_score = round(match.score, 4) if match.entity_id else None
    record.candidates = [{"entity_id": c.entity_id, "score": round(c.score, 4)} for c in match.candidates]
    record.updated_at = now


def _older_revision(sent: str, stored: str) -> bool:
    """A source that numbers its revisions resent one older than the stored (keys: revision_key)."""
    return sent.startswith(REVISION_KEY_PREFIX) and stored.startswith(REVISION_KEY_PREFIX) and sent < stored
