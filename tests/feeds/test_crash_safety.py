"""A worker killed with SIGKILL in the middle of batch ingests from several clients
(docs/http-api.md, "What callers can count on").

After a restart: every record acknowledged with 2xx is there exactly once; a batch that was not
acknowledged is either wholly there (records, their incidents and their ledger events) or wholly
absent; the ledger verifies and its seq runs 1..N without a gap; resending the unacknowledged
batches stores each record once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from service.auth import service as auth_service
from service.auth.secrets import make_hasher
from service.db.database import Database
from service.incidents.models import Incident
from service.ledger.models import LedgerEvent, LedgerHead
from service.records.models import SourceRecord
from tests.conftest import bearer
from tests.support.records import at, city_case, police_call
from tests.support.servers import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

CLIENTS_PER_SOURCE = 3
BATCH = 40
KILL_AFTER_ACKED_BATCHES = 12


@dataclass
class Batch:
    source: str
    ids: list[str]
    body: list[dict[str, Any]]
    acknowledged: bool = False


@dataclass
class Load:
    batches: list[Batch] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    kill_now: asyncio.Event = field(default_factory=asyncio.Event)  # enough acknowledged, or trouble

    @property
    def acknowledged(self) -> int:
        return sum(b.acknowledged for b in self.batches)

    def note(self, batch: Batch | None = None, unexpected: str | None = None) -> None:
        if batch is not None:
            batch.acknowledged = True
        if unexpected is not None:
            self.unexpected.append(unexpected)
        if self.unexpected or self.acknowledged >= KILL_AFTER_ACKED_BATCHES:
            self.kill_now.set()


def make_batch(source: str, client: int, number: int) -> Batch:
    ids = [f"{source[0].upper()}{client}-{number:04d}-{i:02d}" for i in range(BATCH)]

    # Ten places about 100 m apart and a minute between records: records open incidents and join them.
    def lng(n: int) -> float:
        return round(121.440 + (n % 10) * 0.001, 6)

    if source == "police":
        body = [police_call(i, at(n), afdz=f"临汾路{n % 10 + 1}号", jd=lng(n), wd=31.3) for n, i in enumerate(ids)]
    else:
        place = [{"lng": lng(n), "lat": 31.298, "crs": "GCJ-02"} for n in range(BATCH)]
        body = [city_case(i, at(n), address=f"汾西路{n % 10 + 1}号", location=place[n]) for n, i in enumerate(ids)]
    return Batch(source, ids, body)


async def run_client(
    server: ServerProcess, headers: dict[str, str], source: str, client: int, load: Load, stop: asyncio.Event
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=30) as http:
        number = 0
        while not stop.is_set():
            batch = make_batch(source, client, number)
            number += 1
            load.batches.append(batch)
            try:
                response = await http.post(f"/api/v1/feeds/{source}/records", json=batch.body)
            except httpx.TransportError:
                return  # the server is gone: this batch is unacknowledged
            if response.status_code != 200:
                load.note(unexpected=f"{response.status_code}: {response.text[:200]}")
                return
            statuses = Counter(r["status"] for r in response.json()["results"])
            load.note(batch, None if statuses == {"created": BATCH} else f"results {statuses}")


async def create_keys(url: str) -> dict[str, str]:
    db = Database(url)
    hasher = make_hasher(1, 8192)
    keys: dict[str, str] = {}
    try:
        async with db.transaction() as uow:
            for role, source in (("department", "police"), ("department", "city"), ("admin", None)):
                _, keys[source or role] = await auth_service.create_key(
                    uow.session, role, source, None, {"police", "market", "city"}, hasher
                )
    finally:
        await db.dispose()
    return keys


async def read_back(
    url: str,
) -> tuple[dict[tuple[str, str], list[SourceRecord]], list[Incident], list[LedgerEvent], int]:
    db = Database(url)
    try:
        async with db.session() as session:
            records = (await session.scalars(select(SourceRecord))).all()
            incidents = (await session.scalars(select(Incident))).all()
            events = (await session.scalars(select(LedgerEvent).order_by(LedgerEvent.seq))).all()
            head = (await session.execute(select(LedgerHead.seq))).scalar_one()
    finally:
        await db.dispose()
    by_id: dict[tuple[str, str], list[SourceRecord]] = {}
    for record in records:
        by_id.setdefault((record.source, record.source_record_id), []).append(record)
    return by_id, list(incidents), list(events), head


def fully_stored(record: SourceRecord, incidents: dict[int, Incident], reported: dict[int, LedgerEvent]) -> bool:
    """The record, the incident it belongs to, and the ledger event that put it there."""
    event = reported.get(record.id)
    return (
        record.incident_id is not None
        and record.incident_id in incidents
        and event is not None
        and event.incident_id == record.incident_id
    )


async def test_sigkill_mid_batch_loses_nothing_acknowledged_and_half_writes_nothing(
    postgres_url: str, tmp_path: Path
) -> None:
    keys = await create_keys(postgres_url)
    env = {
        "CB_DATABASE_URL": postgres_url,
        "CB_REDIS_URL": "",
        "CB_DATA_DIR": str(tmp_path),
        "CB_SECRET_KEY": "crash-test-secret-key-of-32-bytes-at-least",
        "CB_SLA_CHECK_INTERVAL_S": "0",
        "CB_DEMO_PACE": "0",
        "CB_LOG_LEVEL": "WARNING",
        "CB_INGEST_RATE_PER_KEY": "100000000",
        "CB_INGEST_RATE_PER_IP": "100000000",
    }
    server = ServerProcess(env, tmp_path / "server.log")
    load = Load()
    try:
        await server.start()
        stop = asyncio.Event()
        clients = [
            asyncio.create_task(run_client(server, bearer(keys[source]), source, n, load, stop))
            for source in ("police", "city")
            for n in range(CLIENTS_PER_SOURCE)
        ]
        await asyncio.wait_for(load.kill_now.wait(), timeout=60)
        server.kill()  # batches are in flight: each client has one outstanding
        stop.set()
        await asyncio.gather(*clients)
        assert not load.unexpected, load.unexpected
        assert load.acknowledged >= KILL_AFTER_ACKED_BATCHES, server.log()
        unacknowledged = [b for b in load.batches if not b.acknowledged]
        assert unacknowledged, "the kill came after every batch was answered"

        await server.start()
        by_id, incident_rows, events, head = await read_back(postgres_url)
        incidents = {i.id: i for i in incident_rows}
        reported = {
            e.data["record_id"]: e for e in events if e.type in ("created", "report_attached") and "record_id" in e.data
        }
        assert all(len(rows) == 1 for rows in by_id.values())  # exactly once

        for batch in load.batches:
            stored = [by_id.get((batch.source, i), [None])[0] for i in batch.ids]
            complete = [r is not None and fully_stored(r, incidents, reported) for r in stored]
            if batch.acknowledged:
                assert all(complete), f"an acknowledged batch lost records: {batch.ids[0]}…"
            else:  # one transaction: all or nothing, never a record without its incident or event
                assert all(complete) or all(r is None for r in stored), f"half-written batch {batch.ids[0]}…"
        assert all(any(r.incident_id == i for rows in by_id.values() for r in rows) for i in incidents)

        assert [e.seq for e in events] == list(range(1, head + 1)), "the ledger has a gap"
        async with httpx.AsyncClient(base_url=server.base_url, headers=bearer(keys["admin"]), timeout=60) as http:
            verify = (await http.get("/api/v1/ledger/verify")).json()
            assert verify["ok"] is True and verify["events"] == head == verify["head_seq"], verify

            # The clients retry what was not acknowledged: every record ends up stored once.
            for batch in unacknowledged:
                http.headers.update(bearer(keys[batch.source]))
                response = await http.post(f"/api/v1/feeds/{batch.source}/records", json=batch.body)
                assert response.status_code == 200, response.text
                assert {r["status"] for r in response.json()["results"]} <= {"created", "unchanged"}
            http.headers.update(bearer(keys["admin"]))
            assert (await http.get("/api/v1/ledger/verify")).json()["ok"] is True
        by_id, _, events, head = await read_back(postgres_url)
        assert sorted(by_id) == sorted((b.source, i) for b in load.batches for i in b.ids)
        assert all(len(rows) == 1 for rows in by_id.values())
        assert [e.seq for e in events] == list(range(1, head + 1))
    finally:
        server.stop()
