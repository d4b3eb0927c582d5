"""``IN`` over lists of any length (service/db/lists.py): the right rows on both databases, and on
PostgreSQL the lists are not kept alive by a reference cycle once the statement has run."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.db.lists import in_pairs, in_values
from service.registry.models import Entity
from service.state import AppState
from tests.support.collector import left_for_the_collector

pytestmark = pytest.mark.usefixtures("registry")


async def _entities(state: AppState) -> list[tuple[str, str]]:
    async with state.db.session() as session:
        rows = await session.execute(select(Entity.id, Entity.name).order_by(Entity.id))
    return [(row.id, row.name) for row in rows]


async def test_values_and_pairs_select_exactly_the_rows_listed(state: AppState) -> None:
    entities = await _entities(state)
    chosen = entities[::3]
    names = dict(entities)
    # Another entity's name beside an id (chains share names: only the ones that differ).
    crossed = [(a, b) for (a, _), (_, b) in zip(entities[1::3], entities[2::3], strict=False) if names[a] != b]
    async with state.db.session() as session:
        by_pairs = await session.execute(
            select(Entity.id).where(
                await in_pairs(session, Entity.id, Entity.name, chosen + crossed + [("none", "none")])
            )
        )
        by_values = await session.execute(
            select(Entity.id).where(await in_values(session, Entity.id, [a for a, _ in chosen] + ["none"]))
        )
        assert sorted(row.id for row in by_pairs) == sorted(a for a, _ in chosen)  # a crossed pair is no pair
        assert sorted(row.id for row in by_values) == sorted(a for a, _ in chosen)


async def test_the_listed_values_are_freed_with_the_statement(state: AppState) -> None:
    if state.db.is_sqlite:
        pytest.skip("SQLite takes the plain IN, whose expanding parameter SQLAlchemy keeps in a cycle")
    pairs = [(f"id-{n}", f"name-{n}") for n in range(1000)]

    async def run() -> None:
        async with state.db.session() as session:
            by_pairs = await in_pairs(session, Entity.id, Entity.name, pairs)
            by_values = await in_values(session, Entity.id, [a for a, _ in pairs])
            await session.execute(select(Entity.id).where(by_pairs, by_values))

    kept = [o for o in await left_for_the_collector(run) if isinstance(o, list) and len(o) == len(pairs)]
    assert kept == []
