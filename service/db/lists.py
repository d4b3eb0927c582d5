"""``column IN (values)`` for lists of any length, written so PostgreSQL sees one statement text.

SQLAlchemy spells ``IN`` with one parameter per value, so a statement's text, and the plan
PostgreSQL prepares for it, change with the length of the list: every batch size is a new
statement to parse and plan. On PostgreSQL these take the list as one array parameter instead:
``= ANY($1)`` for values, and two unnested arrays for pairs (a literal list of a thousand pairs is
one OR per row and pair there: 60 ms against 2 ms). Elsewhere they are the plain ``IN``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, literal, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute


async def _on_postgresql(session: AsyncSession) -> bool:
    return (await session.connection()).dialect.name == "postgresql"


async def in_values(
    session: AsyncSession, column: InstrumentedAttribute[Any], values: Collection[Any]
) -> ColumnElement[bool]:
    """``column IN values``."""
    if not await _on_postgresql(session):
        return column.in_(values)
    # func.any renders the same `= any($1)`; sqlalchemy.any_ would keep a comparator on the bound
    # list that refers back to it, a cycle holding the list until a full collection (see in_pairs).
    return column == func.any(literal(list(values), ARRAY(column.type)))


async def in_pairs(
    session: AsyncSession,
    first: InstrumentedAttribute[Any],
    second: InstrumentedAttribute[Any],
    pairs: Sequence[tuple[Any, Any]],
) -> ColumnElement[bool]:
    """``(first, second) IN pairs``."""
    if not await _on_postgresql(session):
        return tuple_(first, second).in_(pairs)
    # Two unnests in one select list run in step, row by row (PostgreSQL 10 and later). Not
    # FROM unnest(a, b) AS t(a, b): SQLAlchemy's table-valued alias and its columns refer to each
    # other, and that cycle kept both arrays alive until the next full collection, which a worker
    # runs rarely (a batch's thousands of ids a request: 10 MiB per 100,000 records).
    firsts = func.unnest(literal([a for a, _ in pairs], ARRAY(first.type)))
    seconds = func.unnest(literal([b for _, b in pairs], ARRAY(second.type)))
    return tuple_(first, second).in_(select(firsts, seconds))
