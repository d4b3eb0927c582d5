"""Locks a transaction holds on names, not rows: PostgreSQL advisory locks, released at commit.

A name that has no row yet — "the open incident of this shop and category", which a transaction
may be about to create — cannot be locked with SELECT … FOR UPDATE; an advisory lock on a hash
of the name serialises the transactions that would create it. SQLite has one writer at a time
(Database.transaction), so there these are no-ops.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Past this many names a transaction takes the one exclusive lock instead (each name would take a
# slot in PostgreSQL's shared lock table, max_locks_per_transaction × max_connections in all).
MAX_NAMED_LOCKS = 256
_EVERY_NAME = 0  # the lock every holder of named locks shares (see lock_names)


def _key(name: str) -> int:
    key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
    return key if key != _EVERY_NAME else 1


async def lock_names(session: AsyncSession, names: Iterable[str]) -> None:
    """Hold each name until this transaction ends; waits while another transaction holds one.

    Names are taken in one order (their keys, ascending), so two transactions never wait for each
    other. A transaction with many names holds them all at once: the exclusive lock that every
    transaction taking names shares, which also keeps the lock table small.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted({_key(name) for name in names})
    if not keys:
        return
    if len(keys) > MAX_NAMED_LOCKS:
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _EVERY_NAME})
        return
    # One statement: the shared lock first, then each name's in ascending order (unnest keeps the
    # array's order). The lock functions are volatile, so counting the rows still calls each one.
    await session.execute(
        text(
            "SELECT count(*) FROM (SELECT CASE WHEN n = 1 THEN pg_advisory_xact_lock_shared(key)"
            " ELSE pg_advisory_xact_lock(key) END"
            " FROM unnest(CAST(:keys AS bigint[])) WITH ORDINALITY AS taken(key, n)) AS locked"
        ),
        {"keys": [_EVERY_NAME, *keys]},
    )
