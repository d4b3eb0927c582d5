"""The ingest writer: records from concurrent requests are stored in groups (group commit).

One transaction serves every request that arrived meanwhile. A request's future is resolved with
its records' outcomes only after the transaction holding them has committed, so a 2xx always means
durable. If a group fails, each request in it is stored alone, so one request's trouble is not
another's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from service.db.database import Database
from service.errors import ServiceUnavailable
from service.feeds.normalized import NormalizedRecord
from service.feeds.parse import SLICE
from service.feeds.resolver import EntityResolver
from service.feeds.store import ParsedRecord, Stored, store_records
from service.incidents.placement import PlacementRules
from service.kit.canonical import canonical_json, sha256_hex

MAX_GROUP_RECORDS = 2000
# A group keeps taking jobs while they keep coming: it is written once this many turns of the event
# loop in a row bring none, or once its first job has waited GATHER_MAX_S (see IngestPipeline._gather).
# A turn lasts while the loop has other work, or GATHER_TURN_S when it is idle: waiting for requests
# still on the network must not spin a core that the other workers and PostgreSQL need.
GATHER_QUIET_TURNS = 10
GATHER_TURN_S = 0.0002
GATHER_MAX_S = 0.05


@dataclass
class _Job:
    """One request's records, and the future its request awaits: their outcomes, in order."""

    records: list[ParsedRecord]
    done: asyncio.Future[list[Stored]]


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
            _fail(job, stopping)
        while not self._queue.empty():
            _fail(self._queue.get_nowait(), stopping)

    async def submit(self, actor: str, records: Sequence[NormalizedRecord]) -> list[Stored]:
        """Match and store the records sent by ``actor``; returns, once committed, what became of each."""
        if not records:
            return []
        if self.resolver.refresh_due():  # most requests need no session for it
            async with self.db.session() as session:
                await self.resolver.refresh(session)
        parsed: list[ParsedRecord] = []
        for start in range(0, len(records), SLICE):
            if start:
                await asyncio.sleep(0)
            parsed.extend(
                ParsedRecord(record, self.resolver.match(record), _content_key(record), actor)
                for record in records[start : start + SLICE]
            )
        job = _Job(parsed, asyncio.get_running_loop().create_future())
        await self._queue.put(job)
        return await job.done

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
        count = len(jobs[0].records)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GATHER_MAX_S
        quiet = 0
        while count < MAX_GROUP_RECORDS:
            if not self._queue.empty():
                job = self._queue.get_nowait()
                jobs.append(job)
                count += len(job.records)
                quiet = 0
            elif quiet < GATHER_QUIET_TURNS and loop.time() < deadline:
                quiet += 1
                await asyncio.sleep(GATHER_TURN_S)
            else:
                break
        return jobs

    async def _write_group(self, jobs: list[_Job]) -> None:
        try:
            outcomes = await self._write(jobs)
        except Exception as exc:
            if len(jobs) == 1:
                _fail(jobs[0], exc)
                return
            for job in jobs:  # alone, so one job's failure is not the others'
                try:
                    [alone] = await self._write([job])
                except Exception as single_exc:
                    _fail(job, single_exc)
                else:
                    _succeed(job, alone)
            return
        for job, outcome in zip(jobs, outcomes, strict=True):
            _succeed(job, outcome)

    async def _write(self, jobs: list[_Job]) -> list[list[Stored]]:
        """Store the jobs' records in one transaction; each job's outcomes."""
        # One pass over all the group's records, whatever their sources, as if they had come in one
        # request: a pass costs a dozen statements whatever its size, so 32 single-record requests
        # must not pay them 32 times.
        records = [record for job in jobs for record in job.records]
        async with self.db.transaction() as uow:
            stored = await store_records(uow, records, self.rules)
        outcomes, start = [], 0
        for job in jobs:
            outcomes.append(stored[start : start + len(job.records)])
            start += len(job.records)
        return outcomes


def _succeed(job: _Job, outcomes: list[Stored]) -> None:
    if not job.done.done():
        job.done.set_result(outcomes)


def _fail(job: _Job, exc: BaseException) -> None:
    if not job.done.done():
        job.done.set_exception(exc)


def _content_key(record: NormalizedRecord) -> str:
    """What tells a resend from the stored record: the revision its source numbers it with, else the
    content hash (store_records: the same key is unchanged, an older revision too, else a new revision)."""
    return record.revision if record.revision is not None else sha256_hex(canonical_json(record.payload))
