"""Fresh, migrated databases for tests, each a copy of a template migrated once per test session.

SQLite: the template is a file, copied with the backup API. PostgreSQL: a template database,
cloned with CREATE DATABASE … TEMPLATE. Either comes empty or with the sample register imported,
so a test that needs the register does not import 850 entities again.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import tempfile
import uuid
from contextlib import closing
from pathlib import Path

import asyncpg

from service.db.database import Database
from service.db.migrate import upgrade_async
from service.registry.importer import import_registry_file
from tests.support.data import DEMO_DATA

REGISTER_CSV = DEMO_DATA / "registry.csv"
POSTGRES_ADMIN_DSN = os.environ.get("CB_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
# Templates per pytest process, so concurrent test runs on one server do not drop each other's.
TEMPLATE = f"cb_test_template_{os.getpid()}"
_postgres_templates: set[str] = set()
_sqlite_templates: dict[bool, Path] = {}
_sqlite_directory: Path | None = None
_template_lock = asyncio.Lock()


def asyncpg_url(database: str) -> str:
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


def _sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def import_register(url: str) -> None:
    """The sample register (service/demo/data/registry.csv), imported as `registry import` does."""
    db = Database(url)
    try:
        await import_registry_file(db, REGISTER_CSV.read_bytes(), REGISTER_CSV.name)
    finally:
        await db.dispose()


# ── SQLite ──────────────────────────────────────────────────────────────────────────────────────


async def _sqlite_template(register: bool) -> Path:
    global _sqlite_directory
    if register in _sqlite_templates:
        return _sqlite_templates[register]
    if _sqlite_directory is None:
        _sqlite_directory = Path(tempfile.mkdtemp(prefix="cb-test-templates-"))
    path = _sqlite_directory / ("register.db" if register else "empty.db")
    if register:
        copy_sqlite(await _sqlite_template(False), path)
        await import_register(_sqlite_url(path))
    else:
        await upgrade_async(_sqlite_url(path))
    _sqlite_templates[register] = path
    return path


def copy_sqlite(template: Path, path: Path) -> None:
    """Copy a SQLite database (the backup API: consistent even with a WAL beside it); a new epoch,
    so each copy is its own history, as after a restore into a new database."""
    with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(path)) as target:
        source.backup(target)
        with target:
            target.execute("UPDATE ledger_head SET epoch = ?", (uuid.uuid4().hex,))


async def sqlite_database(directory: Path, *, register: bool = False) -> str:
    """A SQLite file at the newest migration in ``directory``, with the sample register if asked."""
    path = directory / "test.db"
    copy_sqlite(await _sqlite_template(register), path)
    return _sqlite_url(path)


# ── PostgreSQL ──────────────────────────────────────────────────────────────────────────────────


async def _admin() -> asyncpg.Connection:
    return await asyncpg.connect(POSTGRES_ADMIN_DSN)


async def _create_database(name: str, template: str | None = None) -> None:
    conn = await _admin()
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    finally:
        await conn.close()


async def _postgres_template(register: bool) -> str:
    """Migrate a template once per test session, and import the register into a copy of it once."""
    async with _template_lock:
        if TEMPLATE not in _postgres_templates:
            await _create_database(TEMPLATE)
            await upgrade_async(asyncpg_url(TEMPLATE))
            _postgres_templates.add(TEMPLATE)
        if not register:
            return TEMPLATE
        name = f"{TEMPLATE}_register"
        if name not in _postgres_templates:
            await _create_database(name, template=TEMPLATE)
            await import_register(asyncpg_url(name))
            _postgres_templates.add(name)
        return name


async def create_postgres_database(*, register: bool = False) -> tuple[str, str]:
    """A new database with the schema at head (and the sample register if asked); returns (name, SQLAlchemy URL)."""
    template = await _postgres_template(register)
    name = f"cb_test_{uuid.uuid4().hex[:12]}"
    await _create_database(name, template=template)
    # Each copy must be its own history: a new epoch, as after a restore into a new database.
    copy = await asyncpg.connect(POSTGRES_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}")
    try:
        await copy.execute("UPDATE ledger_head SET epoch = $1", uuid.uuid4().hex)
    finally:
        await copy.close()
    return name, asyncpg_url(name)


async def drop_templates() -> None:
    """At the end of the session: the PostgreSQL templates and the SQLite template files."""
    for name in sorted(_postgres_templates, reverse=True):
        await drop_postgres_database(name)
    _postgres_templates.clear()
    if _sqlite_directory is not None:
        shutil.rmtree(_sqlite_directory, ignore_errors=True)
    _sqlite_templates.clear()


async def drop_postgres_database(name: str) -> None:
    conn = await _admin()
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
