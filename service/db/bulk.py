"""Inserting many rows at once: COPY on PostgreSQL, one executemany elsewhere.

A batch of department records writes thousands of rows (records, incidents, ledger events). Through
SQLAlchemy each value passes several Python layers; COPY hands the rows to asyncpg, which encodes
them in C, and PostgreSQL loads them cheaper than INSERTs. Runs in the session's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.base import Base
from service.kit.canonical import dumps


async def insert_rows(session: AsyncSession, table_name: str, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (column name → value, every row the same keys) into the table, in this transaction.

    Nothing else is flushed first: the session's pending changes may point at these rows.
    """
    if not rows:
        return
    table = Base.metadata.tables[table_name]
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        with session.no_autoflush:  # just these rows: pending objects may point at them
            await session.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    values_of = itemgetter(*columns)  # one C call a row: thousands of rows, dozens of columns
    records = [values_of(row) for row in rows] if len(columns) > 1 else [(values_of(row),) for row in rows]
    json_at = [index for index, name in enumerate(columns) if isinstance(table.c[name].type, JSON)]
    if json_at:
        records = [_json_as_text(values, json_at) for values in records]
    raw = await connection.get_raw_connection()
    await raw.driver_connection.copy_records_to_table(table_name, records=records, columns=columns)  # type: ignore[union-attr]


def _json_as_text(values: tuple[Any, ...], json_at: list[int]) -> tuple[Any, ...]:
    """COPY takes JSON columns as text."""
    as_list = list(values)
    for index in json_at:
        if as_list[index] is not None:
            as_list[index] = dumps(as_list[index])
    return tuple(as_list)
