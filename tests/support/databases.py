"""Fresh, migrated databases for tests: a SQLite file, or a PostgreSQL database cloned from a template."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import asyncpg

from service.db.migrate import upgrade_async

POSTGRES_ADMIN_DSN = os.environ.get("CB_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
# One template per pytest process, so concurrent test runs on one server do not drop each other's.
TEMPLATE = f"cb_test_template_{os.getpid()}"
_template_ready = False
_template_lock = asyncio.Lock()


def asyncpg_url(database: str) -> str:
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


async def sqlite_database(directory: Path) -> str:
    url = f"sqlite+aiosqlite:///{directory / 'test.db'}"
    await upgrade_async(url)
    return url


async def _admin() -> asyncpg.Connection:
    return await asyncpg.connect(POSTGRES_ADMIN_DSN)


async def _ensure_template() -> None:
    """Migrate a template once per test session; each test database is a cheap copy of it."""
    global _template_ready
    async with _template_lock:
        if _template_ready:
            return
        conn = await _admin()
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
        finally:
            await conn.close()
        await upgrade_async(asyncpg_url(TEMPLATE))
        _template_ready = True


async def create_postgres_database() -> tuple[str, str]:
    """A new database with the schema at head; returns (name, SQLAlchemy URL)."""
    await _ensure_template()
    name = f"cb_test_{uuid.uuid4().hex[:12]}"
    conn = await _admin()
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
        # Each copy must be its own history: a new epoch, as after a restore into a new database.
        copy = await asyncpg.connect(POSTGRES_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}")
        try:
            await copy.execute("UPDATE ledger_head SET epoch = $1", uuid.uuid4().hex)
        finally:
            await copy.close()
    finally:
        await conn.close()
    return name, asyncpg_url(name)


async def drop_template() -> None:
    if _template_ready:
        await drop_postgres_database(TEMPLATE)


async def drop_postgres_database(name: str) -> None:
    conn = await _admin()
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
