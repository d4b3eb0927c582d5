"""Shared fixtures: a migrated database on each backend, a running app, and principals of every role."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from service.ledger.service import verify_ledger
from service.main import create_app
from service.settings import Settings
from service.state import AppState
from tests.support.data import SAMPLES
from tests.support.databases import (
    ARGON2_MEMORY_KIB,
    ARGON2_TIME_COST,
    PASSWORD,
    Contents,
    create_postgres_database,
    drop_postgres_database,
    drop_templates,
    principal_keys,
    sqlite_database,
)


@pytest.fixture(scope="session", autouse=True)
def _drop_database_templates() -> Iterator[None]:
    yield
    asyncio.run(drop_templates())


# After every sample record; tests pass it as ``now`` so "not in the future" never depends on the day.
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    """A fixed clock for parsing department records (the adapter, file and format tests)."""
    return NOW


@pytest.fixture(scope="session")
def samples() -> Path:
    """The departments' sample exports and their answer key (tests/data/README.md)."""
    return SAMPLES


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database at the newest migration, on SQLite and on PostgreSQL: a copy of a template made
    once per session, holding the sample register and the principals when the test uses them."""
    contents = Contents(register="registry" in request.fixturenames, principals="principals" in request.fixturenames)
    if request.param == "sqlite":
        yield await sqlite_database(tmp_path, contents)
        return
    name, url = await create_postgres_database(contents)
    try:
        yield url
    finally:
        await drop_postgres_database(name)


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database at the newest migration, for tests that only make sense there."""
    name, url = await create_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(name)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        redis_url="",
        sla_check_interval_s=0,
        secret_key="test-secret-key-of-at-least-32-bytes!",
        live_poll_interval_s=0.2,
        argon2_time_cost=ARGON2_TIME_COST,
        argon2_memory_kib=ARGON2_MEMORY_KIB,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def state(app: FastAPI) -> AppState:
    result: AppState = app.state.cb
    return result


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@dataclass
class Principals:
    """A bearer header for each role, and the names behind them."""

    admin: dict[str, str]
    operator: dict[str, str]
    inspector: dict[str, str]
    inspector2: dict[str, str]
    police: dict[str, str]
    market: dict[str, str]
    city: dict[str, str]
    display: dict[str, str]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


@pytest.fixture
async def principals(settings: Settings, client: httpx.AsyncClient) -> Principals:
    """The users and keys of tests/support/databases.py (already in the database, see ``database_url``), logged in."""
    keys = principal_keys(settings.database_url)
    return Principals(
        admin=await login(client, "admin"),
        operator=await login(client, "op"),
        inspector=await login(client, "insp"),
        inspector2=await login(client, "insp2"),
        police=bearer(keys["police"]),
        market=bearer(keys["market"]),
        city=bearer(keys["city"]),
        display=bearer(keys["display"]),
    )


@pytest.fixture
def registry(state: AppState) -> None:
    """The 850-entity sample register (service/demo/data/registry.csv), imported through the importer.

    It is already in the database: ``database_url`` copies a template it was imported into once per
    session, and the app indexes the register when it starts.
    """
    assert len(state.resolver.index) > 0, "the database was not copied from the template with the register"


@pytest.fixture
async def ledger_checked(state: AppState) -> AsyncIterator[None]:
    """Use in every module that runs the app: when the test ends, the hash chain must still verify."""
    yield
    async with state.db.session() as session:
        check, _ = await verify_ledger(session)
    assert check.ok, check.problems
