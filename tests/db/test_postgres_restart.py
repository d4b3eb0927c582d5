"""PostgreSQL restarting under load: 503 with Retry-After at once while it is down, and back to 2xx
afterwards without restarting the service (docs/http-api.md, "What callers can count on").

The PostgreSQL server is shared with every other test and developer on the machine: the outage is
kept to a few seconds, the server is always started again (finally), and CB_TEST_SKIP_PG_RESTART=1
skips this test.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from service.auth import service as auth_service
from service.main import create_app
from service.records.models import SourceRecord
from service.settings import Settings
from service.state import AppState
from tests.conftest import PASSWORD, bearer, login
from tests.support.records import police_call

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(os.environ.get("CB_TEST_SKIP_PG_RESTART") == "1", reason="CB_TEST_SKIP_PG_RESTART=1"),
]

OUTAGE_S = 3.0
FAIL_FAST_S = 6.0  # the slowest answer allowed while the database is away (connect timeout 5 s)
RECOVERY_S = 20.0
WORKERS = 6


def pg_cluster(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
        check=action == "start",
        timeout=60,
        capture_output=True,
    )


def pg_is_ready() -> bool:
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"], check=False).returncode == 0


@dataclass
class Outcome:
    started: float
    duration_s: float
    status: int | None  # None: no answer at all
    retry_after: str | None
    call_id: str | None


@pytest.fixture
async def pg_app(postgres_url: str, tmp_path: Path) -> AsyncIterator[FastAPI]:
    settings = Settings(
        data_dir=tmp_path,
        database_url=postgres_url,
        redis_url="",
        sla_check_interval_s=0,
        secret_key="test-secret-key-of-at-least-32-bytes!",
        argon2_time_cost=1,
        argon2_memory_kib=8192,
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def test_requests_fail_fast_while_postgres_is_down_and_recover_after(
    pg_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    if not pg_is_ready():
        pytest.skip("PostgreSQL is not running")
    state: AppState = pg_app.state.cb
    async with state.db.transaction() as uow:
        await auth_service.create_user(uow.session, "op", "operator", PASSWORD, state.hasher)
        _, police_key = await auth_service.create_key(
            uow.session, "department", "police", None, set(state.adapters.known_sources()), state.hasher
        )
    transport = httpx.ASGITransport(app=pg_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30) as client:
        operator = await login(client, "op")
        police = bearer(police_key)
        ids = (f"PGR-{n:05d}" for n in itertools.count())
        outcomes: list[Outcome] = []
        stop = asyncio.Event()

        async def worker(n: int) -> None:
            while not stop.is_set():
                call_id: str | None = None
                started = time.monotonic()
                try:
                    if n % 2:
                        call_id = next(ids)
                        response = await client.post(
                            "/api/v1/feeds/police/records", json=police_call(call_id), headers=police
                        )
                    else:
                        response = await client.get("/api/v1/incidents", headers=operator)
                    status, retry_after = response.status_code, response.headers.get("retry-after")
                except httpx.HTTPError:
                    status, retry_after = None, None
                outcomes.append(Outcome(started, time.monotonic() - started, status, retry_after, call_id))
                await asyncio.sleep(0.02)

        load = [asyncio.create_task(worker(n)) for n in range(WORKERS)]
        try:
            await asyncio.sleep(0.5)
            down_at = time.monotonic()
            try:
                await asyncio.to_thread(pg_cluster, "stop")
                await asyncio.sleep(OUTAGE_S)
            finally:
                await asyncio.to_thread(pg_cluster, "start")
            up_at = time.monotonic()
            recovered_at = None
            while time.monotonic() - up_at < RECOVERY_S:
                await asyncio.sleep(0.2)
                late = [o for o in outcomes if o.started > up_at + 0.1]
                if len([o for o in late if o.status is not None and o.status < 300]) >= WORKERS:
                    recovered_at = time.monotonic()
                    break
        finally:
            stop.set()
            await asyncio.gather(*load)

        assert recovered_at is not None, "no 2xx within 20 s of PostgreSQL being back"
        during = [o for o in outcomes if down_at + 1.0 < o.started < up_at - 0.5]
        unavailable = [o for o in during if o.status == 503]
        assert len(unavailable) >= WORKERS, f"few 503s while PostgreSQL was down: {[o.status for o in during]}"
        assert all(o.retry_after and o.retry_after.isdigit() for o in unavailable)
        assert {o.status for o in outcomes} <= {200, 503}, sorted({o.status or 0 for o in outcomes})
        slowest = max(outcomes, key=lambda o: o.duration_s)
        assert slowest.duration_s <= FAIL_FAST_S, f"a request hung for {slowest.duration_s:.1f} s"
        assert max(o.duration_s for o in unavailable) < 2.0  # refused connections answer at once

        # Acknowledged means durable, through the restart too.
        acknowledged = {o.call_id for o in outcomes if o.call_id and o.status == 200}
        async with state.db.session() as session:
            stored = (
                await session.execute(
                    select(SourceRecord.source_record_id, func.count())
                    .where(SourceRecord.source == "police")
                    .group_by(SourceRecord.source_record_id)
                )
            ).all()
        counts = dict(stored)
        assert all(counts.get(call_id) == 1 for call_id in acknowledged)
        assert (await client.get("/readyz")).status_code == 200
        # Nothing was a server error, not even after the answer was sent (cleaning up a dead connection).
        errors = [r.getMessage() for r in caplog.records if r.name == "service.http" and r.levelno >= logging.ERROR]
        assert not errors, errors
