"""Alembic is the only way the schema is made; the models must agree with it on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from service.db.database import make_engine
from service.tables import Base


async def test_models_and_migrations_agree(database_url: str) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == []


async def test_no_index_repeats_the_leading_columns_of_another(database_url: str) -> None:
    """A plain index whose columns lead another index only costs writes: the longer one serves its lookups."""

    def redundant(connection: Connection) -> list[str]:
        inspector = inspect(connection)
        found = []
        for table in inspector.get_table_names():
            indexes = [(i["name"], list(i["column_names"]), i["unique"]) for i in inspector.get_indexes(table)]
            for name, columns, unique in indexes:
                found += [
                    f"{table}.{name} {columns} leads {other} {other_columns}"
                    for other, other_columns, _ in indexes
                    if other != name and not unique and other_columns[: len(columns)] == columns
                ]
        return found

    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(redundant) == []
    finally:
        await engine.dispose()
