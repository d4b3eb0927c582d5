"""Running the Alembic migrations from code: the CLI, the server start and the tests all use this."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, make_url, text

from service.db.database import make_engine

ROOT = Path(__file__).resolve().parents[2]
# A source tree (or an editable install) keeps migrations/ and alembic.ini beside service/; a
# wheel carries the migrations inside the package (setup.py copies them in) and no alembic.ini.
PACKAGED_MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
MIGRATION_LOCK = 72_010_001  # PostgreSQL advisory lock id: one migrator at a time


def alembic_config(database_url: str) -> Config:
    if (ROOT / "alembic.ini").is_file() and (ROOT / "migrations").is_dir():
        config = Config(str(ROOT / "alembic.ini"))
        config.set_main_option("script_location", str(ROOT / "migrations"))
    else:
        config = Config()
        config.set_main_option("script_location", str(PACKAGED_MIGRATIONS))
        config.set_main_option("path_separator", "os")
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema to ``revision``; concurrent callers on PostgreSQL wait for each other."""
    asyncio.run(upgrade_async(database_url, revision))


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    config = alembic_config(database_url)
    is_postgres = database_url.startswith("postgresql")

    def migrate(connection: Connection) -> None:
        if is_postgres:
            connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(migrate)
    finally:
        await engine.dispose()


async def schema_problem(database_url: str) -> str | None:
    """Why the commands that only use the data cannot run on this database yet (no file, no schema,
    an older one), or None when its schema is the newest. Creates nothing: SQLite would make an
    empty file on connecting, so a missing one is reported before that."""
    missing = _missing_sqlite_file(database_url)
    if missing:
        return f"there is no database at {missing}"
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    finally:
        await engine.dispose()
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    if current is None:
        return "the database has no schema yet"
    if current != head:
        return f"the database schema is at revision {current}, not the newest ({head})"
    return None


def _missing_sqlite_file(database_url: str) -> str | None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return url.database
    return None
