"""Fresh, migrated databases for tests, each a copy of a template made once per test session.

SQLite: a template is a file, copied with the backup API. PostgreSQL: a template database, cloned
with CREATE DATABASE … TEMPLATE. A template holds the schema at head and, when the test asks for
them, the sample register and the principals of every role, so no test runs Alembic, imports 850
entities or hashes the principals' secrets again. Each copy gets a new ledger epoch, as after a
restore into a new database.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import tempfile
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from service.auth import service as auth_service
from service.auth.secrets import make_hasher
from service.db.database import Database
from service.db.migrate import upgrade_async
from service.registry.importer import import_registry_file
from tests.support.data import DEMO_DATA

REGISTER_CSV = DEMO_DATA / "registry.csv"
POSTGRES_ADMIN_DSN = os.environ.get("CB_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
# Templates per pytest process, so concurrent test runs on one server do not drop each other's.
TEMPLATE = f"cb_test_template_{os.getpid()}"

# The principals a template may hold: a user of each role (and a second inspector), all with
# PASSWORD, and an API key for each department and for the display.
PASSWORD = "correct-horse-battery"
USERS = (("admin", "admin"), ("op", "operator"), ("insp", "inspector"), ("insp2", "inspector"))
KEY_SOURCES = ("police", "market", "city")
# The cheap argon2 of the tests' settings (tests/conftest.py): production's takes most of a second.
ARGON2_TIME_COST = 1
ARGON2_MEMORY_KIB = 8192


@dataclass(frozen=True)
class Contents:
    """What a test database holds beyond the schema."""

    register: bool = False
    principals: bool = False

    def parent(self) -> Contents | None:
        """The template this one is made from, by adding one thing (the register is added last)."""
        if self.register:
            return Contents(principals=self.principals)
        if self.principals:
            return Contents()
        return None


EMPTY = Contents()
_postgres_templates: dict[Contents, str] = {}
_sqlite_templates: dict[Contents, Path] = {}
_sqlite_directory: Path | None = None
_template_lock = asyncio.Lock()
# The clear API keys of the principals, by backend then name (police, market, city, display): the
# templates with principals on one backend all descend from one, so they share its keys.
_keys: dict[str, dict[str, str]] = {}


def asyncpg_url(database: str) -> str:
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


def _sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def _backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgres"


def principal_keys(url: str) -> dict[str, str]:
    """The clear API keys of the principals in a database copied with ``principals=True``."""
    return _keys[_backend(url)]


async def _add(url: str, contents: Contents, parent: Contents) -> None:
    """Bring a copy of ``parent``'s template up to ``contents``: the one thing it lacks."""
    db = Database(url)
    try:
        if contents.register and not parent.register:
            # As `registry import` does; it writes no ledger event.
            await import_registry_file(db, REGISTER_CSV.read_bytes(), REGISTER_CSV.name)
        elif contents.principals and not parent.principals:
            _keys[_backend(url)] = await _create_principals(db)
    finally:
        await db.dispose()


async def _create_principals(db: Database) -> dict[str, str]:
    hasher = make_hasher(ARGON2_TIME_COST, ARGON2_MEMORY_KIB)
    keys: dict[str, str] = {}
    async with db.transaction() as uow:
        for username, role in USERS:
            await auth_service.create_user(uow.session, username, role, PASSWORD, hasher)
        for source in KEY_SOURCES:
            _, keys[source] = await auth_service.create_key(
                uow.session, "department", source, None, set(KEY_SOURCES), hasher
            )
        _, keys["display"] = await auth_service.create_key(uow.session, "display", None, None, set(), hasher)
    return keys


# ── SQLite ──────────────────────────────────────────────────────────────────────────────────────


async def _sqlite_template(contents: Contents) -> Path:
    global _sqlite_directory
    if contents in _sqlite_templates:
        return _sqlite_templates[contents]
    if _sqlite_directory is None:
        _sqlite_directory = Path(tempfile.mkdtemp(prefix="cb-test-templates-"))
    path = _sqlite_directory / f"register-{contents.register}-principals-{contents.principals}.db"
    parent = contents.parent()
    if parent is None:
        await upgrade_async(_sqlite_url(path))
    else:
        copy_sqlite(await _sqlite_template(parent), path)
        await _add(_sqlite_url(path), contents, parent)
    _sqlite_templates[contents] = path
    return path


def copy_sqlite(template: Path, path: Path) -> None:
    """Copy a SQLite database (the backup API: consistent even with a WAL beside it); a new epoch,
    so each copy is its own history, as after a restore into a new database."""
    with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(path)) as target:
        source.backup(target)
        with target:
            target.execute("UPDATE ledger_head SET epoch = ?", (uuid.uuid4().hex,))


async def sqlite_database(directory: Path, contents: Contents = EMPTY) -> str:
    """A SQLite file at the newest migration in ``directory``, holding ``contents``."""
    path = directory / "test.db"
    copy_sqlite(await _sqlite_template(contents), path)
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


async def _postgres_template(contents: Contents) -> str:
    """Migrate a template once per test session, and make each richer one from a copy of another."""
    async with _template_lock:
        return await _postgres_template_locked(contents)


async def _postgres_template_locked(contents: Contents) -> str:
    if contents in _postgres_templates:
        return _postgres_templates[contents]
    name = TEMPLATE + (f"_r{contents.register:d}p{contents.principals:d}" if contents != EMPTY else "")
    parent = contents.parent()
    if parent is None:
        await _create_database(name)
        await upgrade_async(asyncpg_url(name))
    else:
        await _create_database(name, template=await _postgres_template_locked(parent))
        await _add(asyncpg_url(name), contents, parent)
    _postgres_templates[contents] = name
    return name


async def create_postgres_database(contents: Contents = EMPTY) -> tuple[str, str]:
    """A new database at the newest migration holding ``contents``; returns (name, SQLAlchemy URL)."""
    template = await _postgres_template(contents)
    name = f"cb_test_{uuid.uuid4().hex[:12]}"
    await _create_database(name, template=template)
    copy = await asyncpg.connect(POSTGRES_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}")
    try:
        await copy.execute("UPDATE ledger_head SET epoch = $1", uuid.uuid4().hex)
    finally:
        await copy.close()
    return name, asyncpg_url(name)


async def drop_templates() -> None:
    """At the end of the session: the PostgreSQL templates and the SQLite template files."""
    for name in sorted(_postgres_templates.values(), reverse=True):
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
