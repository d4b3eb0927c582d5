"""A small app for the live stream's tests and benchmarks: the real hub, broker and /ws/live route,
plus a test-only endpoint that writes ledger events the way the incident services do.

It builds its AppState like service.bootstrap does, without the other domains, so the live
stream can be tested (and benchmarked in several uvicorn workers) on its own.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import select

import service.tables  # noqa: F401  (every table: the mappers need them all, as in the real app)
from service.asgi import settle_garbage_collector
from service.auth.router import router as auth_router
from service.auth.secrets import make_hasher
from service.auth.service import create_key
from service.auth.tickets import make_ticket_book
from service.db.database import Database
from service.http import install_error_handlers
from service.incidents.models import Incident
from service.incidents.projection import incident_as_dict, record_change
from service.kit.clock import utcnow
from service.live.bootstrap import start_live
from service.live.ws import router as live_router
from service.metrics import Metrics
from service.ratelimit import RateLimits
from service.settings import Settings
from service.state import AppState
from service.vocabulary import Severity, Status

TEST_SECRET = "live-tests-signing-key-0123456789abcdef"
TEST_HASHER = make_hasher(1, 8192)  # cheap argon2: the live stream's tests are not about hashing


async def start_state(settings: Settings, metrics: Metrics | None = None) -> AppState:
    db = Database(settings.effective_database_url)
    # Rate limits are not under test here; in memory, they need nothing else running.
    state = AppState(
        settings=settings,
        db=db,
        signing_key=settings.secret_key or TEST_SECRET,
        rate_limits=RateLimits(settings.model_copy(update={"redis_url": ""})),
        hasher=TEST_HASHER,
        tickets=make_ticket_book(settings.redis_url),
    )
    state.stoppers.append(state.tickets.close)
    if metrics is not None:
        state.metrics = metrics
    await start_live(state)
    return state


async def stop_state(state: AppState) -> None:
    for task in state.tasks:
        task.cancel()
    await asyncio.gather(*state.tasks, return_exceptions=True)
    for stopper in reversed(state.stoppers):
        await stopper()
    await state.db.dispose()


@asynccontextmanager
async def running_state(settings: Settings) -> AsyncIterator[AppState]:
    """A worker without HTTP: its commits go through its hub and broker like a real worker's."""
    state = await start_state(settings)
    try:
        yield state
    finally:
        await stop_state(state)


class WriteRequest(BaseModel):
    count: int = Field(1, ge=1, le=5000)
    per_transaction: int = Field(1, ge=1, le=1000)
    grid: str | None = None
    category: str = "noise"
    pad: int = Field(0, ge=0, le=200_000)
    touch: bool = False  # note events on existing incidents instead of new incidents


async def write_incidents(
    db: Database,
    count: int,
    *,
    per_transaction: int = 1,
    grid: str | None = None,
    category: str = "noise",
    pad: int = 0,
    actor: str = "tests",
) -> list[int]:
    """Create `count` incidents, each with its `created` event; return the events' seqs."""
    seqs: list[int] = []
    remaining = count
    while remaining:
        batch = min(per_transaction, remaining)
        async with db.transaction() as uow:
            for _ in range(batch):
                now = utcnow()
                incident = Incident(
                    category=category,
                    severity=Severity.MEDIUM,
                    status=Status.NEW,
                    title="测试事件",
                    address="测试路1号",
                    grid=grid,
                    sources=["police"],
                    report_count=1,
                    first_reported_at=now,
                    last_reported_at=now,
                    version=0,
                    created_at=now,
                    updated_at=now,
                    overdue=False,
                )
                uow.session.add(incident)
                data: dict[str, Any] = {"source": "police"}
                if pad:
                    data["pad"] = "x" * pad
                event = await record_change(uow, incident, "created", actor, data)
                seqs.append(event.seq)
        remaining -= batch
    return seqs


async def add_notes(db: Database, count: int, *, per_transaction: int = 1, actor: str = "tests") -> list[int]:
    """`note_added` events on existing incidents (the open set stays the same size); return their seqs."""
    async with db.session() as session:
        ids = list((await session.scalars(select(Incident.id).order_by(Incident.id).limit(1000))).all())
    seqs: list[int] = []
    remaining = count
    while remaining:
        batch = min(per_transaction, remaining)
        async with db.transaction() as uow:
            chosen = (
                await uow.session.scalars(
                    select(Incident).where(Incident.id.in_(random.sample(ids, min(batch, len(ids)))))
                )
            ).all()
            for incident in chosen:
                event = await record_change(uow, incident, "note_added", actor, {"text": "巡查记录"})
                seqs.append(event.seq)
        remaining -= batch
    return seqs


async def change_status(db: Database, incident_id: int, status: str, actor: str = "tests") -> int:
    async with db.transaction() as uow:
        incident = (await uow.session.scalars(select(Incident).where(Incident.id == incident_id))).one()
        incident.status = status
        event = await record_change(uow, incident, "status_changed", actor, {"status": status})
        return event.seq


async def open_incidents(db: Database) -> dict[int, dict[str, Any]]:
    async with db.session() as session:
        rows = (await session.scalars(select(Incident).where(Incident.status.in_(("new", "dispatched"))))).all()
        return {row.id: incident_as_dict(row) for row in rows}


async def make_key(db: Database, role: str, source: str | None = None) -> str:
    async with db.transaction() as uow:
        _principal, key = await create_key(uow.session, role, source, None, {"police", "market", "city"}, TEST_HASHER)
    return key


def create_live_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.cb = await start_state(settings, app.state.metrics)
        try:
            yield
        finally:
            await stop_state(app.state.cb)

    app = FastAPI(lifespan=lifespan)
    app.state.metrics = Metrics()
    install_error_handlers(app)
    app.include_router(auth_router, prefix="/api/v1")  # POST /api/v1/auth/ws-ticket
    app.include_router(live_router)

    @app.post("/_test/events")
    async def write_events(body: WriteRequest) -> dict[str, Any]:
        state: AppState = app.state.cb
        if body.touch:
            seqs = await add_notes(state.db, body.count, per_transaction=body.per_transaction)
        else:
            seqs = await write_incidents(
                state.db,
                body.count,
                per_transaction=body.per_transaction,
                grid=body.grid,
                category=body.category,
                pad=body.pad,
            )
        return {"seqs": seqs}

    @app.get("/_test/hub")
    async def hub_figures() -> dict[str, Any]:
        state: AppState = app.state.cb
        assert state.hub is not None
        return {"last_seq": state.hub.last_seq, "clients": state.hub.client_count, "pid": os.getpid()}

    return app


def app_from_env() -> FastAPI:
    """uvicorn --factory tests.live.liveapp:app_from_env (CB_* settings from the environment), with the
    garbage collector as the real server's workers have it."""
    app = create_live_app(Settings())
    settle_garbage_collector()
    return app
