"""Group commit: requests that arrive together are written in one transaction, with the same
results as if they had come one after another."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from service.errors import ServiceUnavailable
from service.feeds import pipeline as pipeline_module
from service.feeds.parse import parse_items
from service.feeds.pipeline import IngestPipeline
from service.feeds.store import Stored
from service.state import AppState
from tests.conftest import Principals
from tests.support.feeds import XIAOZHU, XINYUAN, at, city_case, incident, police_call, push_ok

pytestmark = pytest.mark.usefixtures("registry", "ledger_checked")


async def submit_together(state: AppState, pushes: list[tuple[str, dict[str, Any]]]) -> list[Stored]:
    """Queue every push before the writer starts, so they all land in its first group."""
    pipeline = IngestPipeline(state.db, state.resolver, state.placement_rules)
    waiting = []
    for source, item in pushes:
        _, accepted = parse_items(state.adapters, source, [(0, item)])
        waiting.append(asyncio.create_task(pipeline.submit(f"department:{source}", [a.record for a in accepted])))
        # Queued in this order, before the writer starts (there is no event to wait on).
        while pipeline._queue.qsize() < len(waiting):  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    pipeline.start()
    try:
        outcomes = await asyncio.gather(*waiting)
    finally:
        await pipeline.stop()
    return [stored for [stored] in outcomes]


async def test_one_group_of_several_requests_and_sources(
    client: httpx.AsyncClient, principals: Principals, state: AppState
) -> None:
    entity_id, name, address, lat, lng = XINYUAN
    results = await submit_together(
        state,
        [
            ("police", police_call("G1", at(0), name=name, address=address)),  # fire hazard: opens
            (
                "city",
                city_case(
                    "G2", at(1), code="09012", label="占用消防通道", shop=name, address=address, wgs84=(lat, lng)
                ),
            ),
            ("police", police_call("G3", at(2), name=name, address=address)),  # joins the same fire incident
            ("police", police_call("G1", at(0), name=name, address=address)),  # a resend inside the group
            ("police", police_call("G4", at(3), code="0202", label="噪声扰民", name=XIAOZHU[1], address=XIAOZHU[2])),
            ("city", city_case("G1", at(4), shop=name, address=address)),  # the police's id, another record
        ],
    )
    assert [r.status for r in results] == ["created", "created", "created", "unchanged", "created", "created"]
    assert results[3].record_id == results[0].record_id
    assert results[5].record_id != results[0].record_id
    assert results[0].entity_id == entity_id and results[4].entity_id == XIAOZHU[0]
    fire = results[0].incident_id
    assert fire is not None and {r.incident_id for r in results[:4]} == {fire}
    assert results[4].incident_id not in (None, fire)
    detail = await incident(client, principals.operator, fire)
    assert detail["report_count"] == 3 and sorted(detail["sources"]) == ["city", "police"]
    assert [e["type"] for e in detail["events"]] == ["created", "report_attached", "report_attached"]
    # Placed together, each record's events name the department that sent it.
    assert [e["actor"] for e in detail["events"]] == ["department:police", "department:city", "department:police"]


async def test_concurrent_pushes_of_one_problem_share_its_incident(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    entity_id, name, address, lat, lng = XINYUAN
    calls = [police_call(f"C{i}", at(i), name=name, address=address) for i in range(8)]
    cases = [
        city_case(
            f"T{i}", at(i + 0.5), code="09012", label="占用消防通道", shop=name, address=address, wgs84=(lat, lng)
        )
        for i in range(8)
    ]
    pushes = [push_ok(client, principals.police, "police", c) for c in calls]
    pushes += [push_ok(client, principals.city, "city", c) for c in cases]
    results = [r for batch in await asyncio.gather(*pushes) for r in batch]
    assert all(r["status"] == "created" and r["entity_id"] == entity_id for r in results)
    assert len({r["incident_id"] for r in results}) == 1
    assert (await incident(client, principals.operator, results[0]["incident_id"]))["report_count"] == 16


class GroupSizes(IngestPipeline):
    """The pipeline, noting how many jobs each of its transactions wrote."""

    groups: list[int]

    async def _write(self, jobs: list[Any]) -> list[list[Stored]]:
        self.groups.append(len(jobs))
        return await super()._write(jobs)


async def test_requests_arriving_while_a_group_forms_join_it(state: AppState, monkeypatch: pytest.MonkeyPatch) -> None:
    # As under load: the first job finds the queue empty, the others come a few loop turns later.
    # Counted in loop turns, not time: a busy CI host may pause the process past GATHER_MAX_S.
    monkeypatch.setattr(pipeline_module, "GATHER_MAX_S", 10.0)
    pipeline = GroupSizes(state.db, state.resolver, state.placement_rules)
    pipeline.groups = []
    pipeline.start()

    async def push(number: int) -> None:
        for _ in range(number % 5):
            await asyncio.sleep(0)
        item = police_call(f"A{number}", at(number), name=XIAOZHU[1], address=XIAOZHU[2])
        _, accepted = parse_items(state.adapters, "police", [(0, item)])
        await pipeline.submit("department:police", [a.record for a in accepted])

    try:
        # Refreshed now, the register is not read again for a second: no job waits on the database.
        async with state.db.session() as session:
            await state.resolver.refresh(session, force=True)
        await asyncio.gather(*(push(number) for number in range(12)))
        assert pipeline.groups == [12]
        await push(12)  # alone: written without waiting for company that is not coming
        assert pipeline.groups == [12, 1]
    finally:
        await pipeline.stop()


class StuckWriter(IngestPipeline):
    """A writer whose transaction never finishes, as when the database hangs at shutdown."""

    writing: asyncio.Event

    async def _write(self, jobs: list[Any]) -> list[list[Stored]]:
        self.writing.set()
        await asyncio.Event().wait()
        raise AssertionError("never reached")


async def test_stopping_answers_every_request_still_waiting(state: AppState) -> None:
    pipeline = StuckWriter(state.db, state.resolver, state.placement_rules)
    pipeline.writing = asyncio.Event()
    pipeline.start()

    async def push(number: int) -> None:
        item = police_call(f"S{number}", at(number), name=XIAOZHU[1], address=XIAOZHU[2])
        _, accepted = parse_items(state.adapters, "police", [(0, item)])
        await pipeline.submit("department:police", [a.record for a in accepted])

    being_written = asyncio.create_task(push(0))
    await asyncio.wait_for(pipeline.writing.wait(), timeout=5)
    queued = asyncio.create_task(push(1))  # the writer is stuck: this one stays in the queue
    while not pipeline._queue.qsize():  # noqa: ASYNC110 (nothing to wait on)
        await asyncio.sleep(0.005)
    await pipeline.stop()
    for waiting in (being_written, queued):
        with pytest.raises(ServiceUnavailable):
            await asyncio.wait_for(waiting, timeout=5)
