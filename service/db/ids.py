"""Taking primary keys before inserting, so rows that point at each other go out in bulk inserts."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.base import Base


async def reserve_ids(session: AsyncSession, table_name: str, count: int) -> list[int]:
    """``count`` unused ids of the table (with an integer ``id`` key), ascending.

    PostgreSQL hands them out from the table's sequence, so concurrent transactions never collide;
    ids a transaction does not use are skipped, as a rollback skips them. SQLite has one writer at
    a time (Database.transaction holds it), so the ids after the highest one are free until commit.
    """
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        rows = await session.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
            {"table": table_name, "n": count},
        )
        return sorted(row[0] for row in rows)
    highest = await session.scalar(select(func.max(Base.metadata.tables[table_name].c.id))) or 0
    return list(range(highest + 1, highest + 1 + count))
