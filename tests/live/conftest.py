"""Fixtures for the live stream: migrated databases (SQLite, PostgreSQL), Redis, brokers, a real server."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from redis import Redis
from redis.exceptions import RedisError

from service.live.broker import Broker, MemoryBroker, RedisBroker
from tests.live.support import RedisServer, migrate
from tests.support.databases import copy_sqlite

REDIS_URL = os.environ.get("CB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get("CB_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432")


# ── SQLite ──────────────────────────────────────────────────────────────────────────────────────


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("live-template") / "template.db"
    migrate(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A freshly migrated database of its own (a copy of one migrated template; each copy gets a new epoch)."""
    path = tmp_path / "live.db"
    copy_sqlite(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


# ── PostgreSQL ──────────────────────────────────────────────────────────────────────────────────


def _asyncpg_dsn(database: str) -> str:
    return POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://") + f"/{database}"


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn("postgres"), timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A uniquely named, migrated PostgreSQL database for one test module, dropped afterwards."""
    name = f"cb_live_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL is not available: {exc}")
    url = f"{POSTGRES_URL}/{name}"
    try:
        migrate(url)
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# ── Redis ───────────────────────────────────────────────────────────────────────────────────────


@pytest.fixture(scope="session")
def redis_url() -> str:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except RedisError as exc:
        pytest.skip(f"Redis is not available at {REDIS_URL}: {exc}")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


# ── brokers ─────────────────────────────────────────────────────────────────────────────────────


@pytest.fixture
def channel() -> str:
    return f"cb-test:{uuid.uuid4().hex}:live"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def broker(request: pytest.FixtureRequest, channel: str) -> AsyncIterator[Broker]:
    """The same contract, on every backend."""
    instance: Broker
    if request.param == "memory":
        instance = MemoryBroker()
    else:
        instance = RedisBroker(request.getfixturevalue("redis_url"), channel)
    await instance.start()
    if isinstance(instance, RedisBroker):
        async with asyncio.timeout(5):
            await instance.wait_subscribed()
    try:
        yield instance
    finally:
        await instance.stop()
