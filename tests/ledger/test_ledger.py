"""The ledger: a gap-free, ordered, hash-chained record that detects tampering."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest
from sqlalchemy import insert, text

from service.kit.clock import utcnow
from service.ledger.models import LedgerEvent
from service.ledger.service import append_event, events_after, ledger_position, number_at_commit, verify_ledger
from service.state import AppState
from tests.conftest import Principals
from tests.support.collector import left_for_the_collector


async def _append(state: AppState, n: int, actor: str = "test") -> None:
    for i in range(n):
        async with state.db.transaction() as uow:
            await append_event(uow, type="note_added", actor=actor, incident_id=None, data={"i": i, "text": "说明"})


async def _verify(state: AppState) -> tuple[bool, list[str]]:
    async with state.db.session() as session:
        check, _ = await verify_ledger(session)
    return check.ok, check.problems


async def test_chain_verifies_and_events_read_in_order(
    state: AppState, client: httpx.AsyncClient, principals: Principals
) -> None:
    await _append(state, 5)
    assert await _verify(state) == (True, [])
    page = (await client.get("/api/v1/events", params={"since": 2, "limit": 2}, headers=principals.operator)).json()
    assert [e["seq"] for e in page["events"]] == [3, 4] and page["head_seq"] == 5
    verify = (await client.get("/api/v1/ledger/verify", headers=principals.admin)).json()
    assert verify["ok"] is True and verify["events"] == 5 and verify["head_seq"] == 5


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE ledger_events SET actor = 'mallory' WHERE seq = 3",
        "DELETE FROM ledger_events WHERE seq = 3",
        "DELETE FROM ledger_events WHERE seq = 6",
        "UPDATE ledger_events SET seq = -2 WHERE seq = 2; UPDATE ledger_events SET seq = 2 WHERE seq = 4; "
        "UPDATE ledger_events SET seq = 4 WHERE seq = -2",
    ],
    ids=["edit", "delete-middle", "delete-last", "reorder"],
)
async def test_verify_detects_tampering(state: AppState, tamper: str) -> None:
    await _append(state, 6)
    async with state.db.engine.begin() as connection:
        for statement in tamper.split(";"):
            if statement.strip():
                await connection.execute(text(statement))
    ok, problems = await _verify(state)
    assert not ok and problems


@pytest.mark.postgres
async def test_concurrent_writers_never_let_a_reader_skip(state: AppState) -> None:
    """A reader polling /events?since= must see every seq, although writers commit concurrently."""
    if state.db.is_sqlite:
        pytest.skip("SQLite has one writer at a time")
    writers, per_writer = 16, 25
    seen: list[int] = []
    done = asyncio.Event()

    async def writer(w: int) -> None:
        for i in range(per_writer):
            async with state.db.transaction() as uow:
                await append_event(uow, type="note_added", actor=f"w{w}", incident_id=None, data={"i": i})
                await asyncio.sleep(random.random() * 0.003)  # hold the transaction open a little

    async def reader() -> None:
        last = 0
        while True:
            async with state.db.session() as session:
                rows = await events_after(session, last, 1000)
            for row in rows:
                assert row.seq == last + 1, f"skipped from {last} to {row.seq}"
                last = row.seq
                seen.append(row.seq)
            if done.is_set() and last == writers * per_writer:
                return
            await asyncio.sleep(0)

    reading = asyncio.create_task(reader())
    await asyncio.gather(*(writer(w) for w in range(writers)))
    done.set()
    await reading
    assert seen == list(range(1, writers * per_writer + 1))
    assert (await _verify(state))[0]


@pytest.mark.postgres
async def test_verify_while_others_write_finds_nothing_wrong(state: AppState) -> None:
    """Events committed during a walk lie past the head it started from; they are not a break."""
    if state.db.is_sqlite:
        pytest.skip("SQLite has one writer at a time")
    writing = True

    async def writer() -> None:
        while writing:
            async with state.db.transaction() as uow:
                for i in range(20):
                    await append_event(uow, type="note_added", actor="w", incident_id=None, data={"i": i})

    writers = [asyncio.create_task(writer()) for _ in range(4)]
    try:
        for _ in range(15):
            ok, problems = await _verify(state)
            assert ok, problems
    finally:
        writing = False
        await asyncio.gather(*writers)


async def test_an_event_beyond_the_head_is_reported(state: AppState) -> None:
    async with state.db.transaction() as uow:
        await append_event(uow, type="note_added", actor="w", incident_id=None, data={})
    async with state.db.session() as session:
        head = await ledger_position(session)
    async with state.db.transaction() as uow:
        await uow.session.execute(
            insert(LedgerEvent).values(
                seq=head.seq + 1,
                incident_id=None,
                type="note_added",
                actor="forger",
                at=utcnow(),
                data={},
                incident=None,
                prev_hash="0" * 64,
                hash="0" * 64,
            )
        )
    ok, problems = await _verify(state)
    assert not ok and any("beyond the ledger head" in p for p in problems)


@pytest.mark.parametrize("numbered_at_commit", [False, True], ids=["locked-at-once", "numbered-at-commit"])
async def test_a_transaction_is_freed_when_it_ends_not_left_to_the_cycle_collector(
    state: AppState, numbered_at_commit: bool
) -> None:
    # A worker tunes the collector to run rarely: a transaction caught in a cycle (a callback kept
    # by its unit of work and closing over it) held its session and events until a full
    # collection, tens of thousands of them on a busy worker.
    async def one_transaction() -> None:
        async with state.db.transaction() as uow:
            if numbered_at_commit:
                number_at_commit(uow)
            await append_event(uow, type="note_added", actor="test", incident_id=None, data={"text": "说明"})

    left = {type(o).__name__ for o in await left_for_the_collector(one_transaction)}
    assert not left & {"UnitOfWork", "AsyncSession", "LedgerWork", "AppendedEvent"}
    assert await _verify(state) == (True, [])
