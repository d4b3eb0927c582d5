"""Ingesting department records: parse, link, store (with revisions), place into incidents.

Records from concurrent requests are written in groups: one transaction, and one wait for the
ledger lock, serves every request that arrived meanwhile (group commit). A request is answered
only after the transaction holding its records has committed, so a 2xx always means durable.
If a group fails, each request in it is retried alone, so one request's trouble is not another's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.bulk import insert_rows
from service.db.database import Database, UnitOfWork
from service.db.ids import reserve_ids
from service.db.lists import in_pairs, in_values
from service.errors import ServiceUnavailable
from service.feeds.adapters import AdapterRegistry
from service.feeds.normalized import NormalizedRecord
from service.feeds.personal import mask_field_errors, mask_personal_data
from service.feeds.resolver import EntityResolver
from service.formats.fields import RecordRejected
from service.incidents.models import Incident
from service.incidents.placement import PlacedEntity, PlacementRules, Placer
from service.incidents.projection import record_change
from service.kit.canonical import canonical_json, sha256_hex
from service.kit.clock import utcnow
from service.ledger.service import lock_ledger
from service.matching.matcher import MatchResult
from service.matching.uscc import is_valid_uscc, normalize_uscc
from service.records.models import SourceRecord
from service.registry.models import Entity

log = logging.getLogger(__name__)

MAX_GROUP_RECORDS = 2000
# A group keeps taking jobs while they keep coming: it is written once this many turns of the event
# loop in a row bring none, or once its first job has waited GATHER_MAX_S (see IngestPipeline._gather).
# A turn lasts while the loop has other work, or GATHER_TURN_S when it is idle: waiting for requests
# still on the network must not spin a core that the other workers and PostgreSQL need.
GATHER_QUIET_TURNS = 10
GATHER_TURN_S = 0.0002
GATHER_MAX_S = 0.05
# Records parsed or matched between two chances for other tasks to run (about 10 ms of work). The
# writer holds the ledger lock across its awaits: a long stretch of parsing on this worker's loop
# would keep every other worker waiting for it.
SLICE = 64


@dataclass
class ItemResult:
    """One item's outcome, in the order the items came."""

    position: int  # index in the request, or the file's line number
    source_record_id: str | None
    status: str = "rejected"  # created | updated | unchanged | rejected
    record_id: int | None = None
    entity_id: str | None = None
    incident_id: int | None = None
    errors: list[dict[str, str]] = field(default_factory=list)


@dataclass
class _Parsed:
    result: ItemResult
    record: NormalizedRecord
    match: MatchResult
    content_hash: str
    actor: str  # who sent it: its ledger events name them

    @property
    def key(self) -> tuple[str, str]:
        return self.record.source, self.record.source_record_id


@dataclass(slots=True)
class NewRecord:
    """A source_records row about to be inserted (the columns of SourceRecord, as plain fields).

    Placement sets its incident_id; then the pass inserts all of them in one statement. Building
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
    category: str = ""
    is_problem: bool = False
    title: str = ""
    description: str = ""
    name: str | None = None
    address: str | None = None
    uscc: str | None = None
    uscc_valid: bool | None = None
    lat: float | None = None
    lng: float | None = None
    severity: str = ""
    status_text: str | None = None
    entity_id: str | None = None
    match_method: str | None = None
    match_score: float | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)
    incident_id: int | None = None

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass
class _Job:
    """One request's records (each names who sent it), and the future its request awaits."""

    items: list[_Parsed]
    done: asyncio.Future[None]


def parse_items(
    adapters: AdapterRegistry, source: str, items: Sequence[tuple[int, Any]]
) -> tuple[list[ItemResult], list[tuple[ItemResult, NormalizedRecord]]]:
    """Run the source's adapter on each item; rejected items carry their field errors."""
    adapter = adapters.get(source)
    results: list[ItemResult] = []
    accepted: list[tuple[ItemResult, NormalizedRecord]] = []
    for position, item in items:
        if not isinstance(item, dict):
            results.append(
                ItemResult(position, None, errors=[{"field": "(record)", "reason": "must be a JSON object"}])
            )
            continue
        raw_id = item.get(adapter.ID_FIELD)
        try:
            record = mask_personal_data(adapter.parse(item), id_field=adapter.ID_FIELD)
        except RecordRejected as rejected:
            shown_id = rejected.source_record_id or (str(raw_id)[:128] if isinstance(raw_id, str | int) else None)
            results.append(
                ItemResult(
                    position,
                    shown_id,
                    errors=[{"field": e.field, "reason": e.reason} for e in mask_field_errors(rejected.errors)],
                )
            )
            continue
        result = ItemResult(position, record.source_record_id)
        results.append(result)
        accepted.append((result, record))
    return results, accepted


async def parse_in_slices(
    adapters: AdapterRegistry, source: str, items: Sequence[tuple[int, Any]]
) -> tuple[list[ItemResult], list[tuple[ItemResult, NormalizedRecord]]]:
    """parse_items for a request's worth, letting other tasks run between slices (see SLICE)."""
    results: list[ItemResult] = []
    accepted: list[tuple[ItemResult, NormalizedRecord]] = []
    for start in range(0, len(items), SLICE):
        if start:
            await asyncio.sleep(0)
        slice_results, slice_accepted = parse_items(adapters, source, items[start : start + SLICE])
        results.extend(slice_results)
        accepted.extend(slice_accepted)
    return results, accepted


class IngestPipeline:
    """The one writer of department records in this worker (group commit)."""

    def __init__(self, db: Database, resolver: EntityResolver, rules: PlacementRules):
        self.db = db
        self.resolver = resolver
        self.rules = rules
        # Bounded: when the writer falls behind, requests wait here instead of piling up in memory.
        self._queue: asyncio.Queue[_Job] = asyncio.Queue(maxsize=256)
        self._task: asyncio.Task[None] | None = None
        self._taken: list[_Job] = []  # the group being gathered or written

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="ingest-pipeline")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        # Whoever still waits gets an answer to retry, not a request that never returns; a resend
        # is safe whether or not its group committed before the stop (records are idempotent).
        stopping = ServiceUnavailable("the service is shutting down; send again")
        for job in self._taken:
            _settle(job, stopping)
        while not self._queue.empty():
            _settle(self._queue.get_nowait(), stopping)

    async def submit(self, actor: str, accepted: list[tuple[ItemResult, NormalizedRecord]]) -> None:
        """Store the records; returns once they are committed (results are filled in place)."""
        if not accepted:
            return
        if self.resolver.refresh_due():  # most requests need no session for it
            async with self.db.session() as session:
                await self.resolver.refresh(session)
        parsed: list[_Parsed] = []
        for start in range(0, len(accepted), SLICE):
            if start:
                await asyncio.sleep(0)
            parsed.extend(
                _Parsed(result, record, self.resolver.match(record), sha256_hex(canonical_json(record.payload)), actor)
                for result, record in accepted[start : start + SLICE]
            )
        job = _Job(parsed, asyncio.get_running_loop().create_future())
        await self._queue.put(job)
        await job.done

    async def _run(self) -> None:
        while True:
            await self._write_group(await self._gather())
            self._taken = []

    async def _gather(self) -> list[_Job]:
        """The next group: the queued jobs, and those still arriving.

        Under load the first request to reach an empty queue is rarely alone: the senders the last
        commit answered are sending again, and the loop is reading, parsing and matching their
        requests. Writing it at once would cost one transaction for it and one for the rest. When
        nothing else is arriving a lone job waits 2 ms at most.
        """
        jobs = [await self._queue.get()]
        self._taken = jobs  # stop() answers them if the worker stops before they are settled
        count = len(jobs[0].items)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GATHER_MAX_S
        quiet = 0
        while count < MAX_GROUP_RECORDS:
            if not self._queue.empty():
                job = self._queue.get_nowait()
                jobs.append(job)
                count += len(job.items)
                quiet = 0
            elif quiet < GATHER_QUIET_TURNS and loop.time() < deadline:
                quiet += 1
                await asyncio.sleep(GATHER_TURN_S)
            else:
                break
        return jobs

    async def _write_group(self, jobs: list[_Job]) -> None:
        try:
            await self._write(jobs)
        except Exception as exc:
            if len(jobs) == 1:
                _settle(jobs[0], exc)
                return
            for job in jobs:  # retry alone, so one job's failure is not the others'
                try:
                    await self._write([job])
                except Exception as single_exc:
                    _settle(job, single_exc)
                else:
                    _settle(job, None)
            return
        for job in jobs:
            _settle(job, None)

    async def _write(self, jobs: list[_Job]) -> None:
        for job in jobs:
            for item in job.items:
                _reset(item.result)
        # One pass over all the group's records, whatever their sources, as if they had come in one
        # request: a pass costs a dozen statements whatever its size, so 32 single-record requests
        # must not pay them 32 times.
        items = [item for job in jobs for item in job.items]
        async with self.db.transaction() as uow:
            # New records are built before the ledger lock: its wait is the one all workers share.
            prepared = await _prepare(uow, items)
            await lock_ledger(uow)  # serialise with other workers: record upserts, placement and events
            await store_and_place(uow, prepared, self.rules)


def _reset(result: ItemResult) -> None:
    result.status, result.record_id, result.incident_id = "rejected", None, None


def _settle(job: _Job, exc: BaseException | None) -> None:
    if job.done.done():
        return
    if exc is None:
        job.done.set_result(None)
    else:
        job.done.set_exception(exc)


@dataclass
class _Pass:
    items: list[_Parsed]
    new_records: dict[tuple[str, str], NewRecord]  # by (source, id): those not stored when the pass began
    entities: dict[str, PlacedEntity]  # the entities the records were matched to


async def _prepare(uow: UnitOfWork, items: list[_Parsed]) -> _Pass:
    """Build the rows of the records not stored yet (no lock needed: a record another worker stores
    meanwhile makes the insert fail, and the group is retried)."""
    session = uow.session
    rows = await session.execute(
        select(SourceRecord.source, SourceRecord.source_record_id).where(
            await _stored_keys(session, {item.key for item in items})
        )
    )
    stored = {(row.source, row.source_record_id) for row in rows}
    first_of_each: dict[tuple[str, str], _Parsed] = {}
    for item in items:
        if item.key not in stored:
            first_of_each.setdefault(item.key, item)
    new_ids = await reserve_ids(session, "source_records", len(first_of_each))
    now = utcnow()
    new_records: dict[tuple[str, str], NewRecord] = {}
    for record_id, ((source, source_record_id), item) in zip(new_ids, first_of_each.items(), strict=True):
        record = NewRecord(record_id, source, source_record_id, now, now, item.record.occurred_at)
        _apply(record, item, now)
        new_records[item.key] = record
    # What incidents take from their entities, read before the lock: the register is not the ledger's.
    entities = await _entities(session, {item.match.entity_id for item in items if item.match.entity_id})
    return _Pass(items, new_records, entities)


async def _stored_keys(session: AsyncSession, keys: set[tuple[str, str]]) -> ColumnElement[bool]:
    return await in_pairs(session, SourceRecord.source, SourceRecord.source_record_id, sorted(keys))


async def _entities(session: AsyncSession, ids: set[str]) -> dict[str, PlacedEntity]:
    if not ids:
        return {}
    rows = await session.execute(
        select(Entity.id, Entity.name, Entity.address, Entity.lat, Entity.lng, Entity.grid).where(
            await in_values(session, Entity.id, ids)
        )
    )
    return {row.id: row for row in rows}


async def store_and_place(uow: UnitOfWork, one_pass: _Pass, rules: PlacementRules) -> None:
    """Upsert the records of one pass and put new problems into incidents, under the ledger lock."""
    session = uow.session
    items = one_pass.items
    stored_keys = {item.key for item in items} - one_pass.new_records.keys()
    existing: dict[tuple[str, str], SourceRecord | NewRecord] = {}
    if stored_keys:
        existing.update(
            ((r.source, r.source_record_id), r)
            for r in await session.scalars(select(SourceRecord).where(await _stored_keys(session, stored_keys)))
        )
    revisions: list[dict[str, Any]] = []
    to_place: list[SourceRecord | NewRecord] = []
    actors: dict[int, str] = {}  # record id → who sent it (the events of its placement name them)
    # (record, who revised it, its status before, whether its entity, category or time changed)
    updated_attached: list[tuple[SourceRecord | NewRecord, str, str | None, bool]] = []
    now = utcnow()
    for item in items:
        record = existing.get(item.key)
        if record is None:
            record = one_pass.new_records[item.key]
            existing[item.key] = record
            item.result.status = "created"
            actors[record.id] = item.actor
            to_place.append(record)
        elif record.content_hash == item.content_hash:
            item.result.status = "unchanged"
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
            previous_status = record.status_text
            previous_place = (record.entity_id, record.category, record.occurred_at)
            _apply(record, item, now)
            record.revision += 1
            item.result.status = "updated"
            if record.incident_id is not None:
                moved = record.is_problem and previous_place != (record.entity_id, record.category, record.occurred_at)
                updated_attached.append((record, item.actor, previous_status, moved))
            elif record.id not in actors:  # a record is placed once, in its final state
                actors[record.id] = item.actor
                to_place.append(record)  # e.g. an inspection now found wanting

    entities = one_pass.entities
    missing = {r.entity_id for r in to_place if r.entity_id and r.entity_id not in entities}  # operators' links
    if missing:
        entities = {**entities, **await _entities(session, missing)}
    await Placer(uow, rules).place(to_place, entities, actors)
    await insert_rows(session, "source_records", [record.row() for record in one_pass.new_records.values()])
    await insert_rows(session, "source_record_revisions", revisions)

    for record, actor, previous_status, moved in updated_attached:
        incident = await session.get(Incident, record.incident_id)
        if incident is not None:
            await record_change(
                uow,
                incident,
                "report_updated",
                actor,
                {
                    "record_id": record.id,
                    "source": record.source,
                    "source_record_id": record.source_record_id,
                    "revision": record.revision,
                    "status_text": record.status_text,
                    "previous_status_text": previous_status,
                },
            )
            if moved and isinstance(record, SourceRecord):  # it may belong in another incident now
                entity = await session.get(Entity, record.entity_id) if record.entity_id else None
                await Placer(uow, rules, actor).relocate(
                    record, entity, incident, change="report_revised", reason="revised by its department"
                )
    for item in items:
        record = existing[item.key]
        item.result.record_id = record.id
        item.result.entity_id = record.entity_id
        item.result.incident_id = record.incident_id


def _apply(record: SourceRecord | NewRecord, item: _Parsed, now: datetime) -> None:
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
    if record.match_method != "operator":  # an operator's link is never overridden by a resend
        record.entity_id = match.entity_id
        record.match_method = match.method if match.entity_id else None
        record.match_score = round(match.score, 4) if match.entity_id else None
    record.candidates = [{"entity_id": c.entity_id, "score": round(c.score, 4)} for c in match.candidates]
    record.updated_at = now
