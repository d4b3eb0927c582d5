"""Shared fixtures: a migrated database on each backend, a running app, and principals of every role."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from service.auth import service as auth_service
from service.main import create_app
from service.settings import Settings
from service.state import AppState
from tests.support.data import SAMPLES
from tests.support.databases import (
    create_postgres_database,
    drop_postgres_database,
    drop_templates,
    sqlite_database,
)

PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="session", autouse=True)
def _drop_database_templates() -> Iterator[None]:
    yield
    asyncio.run(drop_templates())


@pytest.fixture(scope="session")
def samples() -> Path:
    """The departments' sample exports and their answer key (tests/data/README.md)."""
    return SAMPLES


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database at the newest migration, on SQLite and on PostgreSQL: a copy of a template
    migrated once per session (with the sample register in it when the test uses ``registry``)."""
    register = "registry" in request.fixturenames
    if request.param == "sqlite":
        yield await sqlite_database(tmp_path, register=register)
        return
    name, url = await create_postgres_database(register=register)
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
        argon2_time_cost=1,
        argon2_memory_kib=8192,
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
async def principals(state: AppState, client: httpx.AsyncClient) -> Principals:
    sources = set(state.adapters.known_sources())
    keys: dict[str, str] = {}
    async with state.db.transaction() as uow:
        for username, role in (("admin", "admin"), ("op", "operator"), ("insp", "inspector"), ("insp2", "inspector")):
            await auth_service.create_user(uow.session, username, role, PASSWORD, state.hasher)
        for source in ("police", "market", "city"):
            _, keys[source] = await auth_service.create_key(
                uow.session, "department", source, None, sources, state.hasher
            )
        _, keys["display"] = await auth_service.create_key(uow.session, "display", None, None, sources, state.hasher)
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
