"""Two workers on one PostgreSQL database, each with its own engine and ingest writer, racing
reports of the same problems: still one incident per problem, every report counted once, the
chain verifies, and a reader following /events never skips an event."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.ledger.service import verify_ledger
from service.main import create_app
from service.settings import Settings
from service.state import AppState
from tests.conftest import Principals
from tests.support.feeds import XINYUAN, at, city_case, police_call, push_ok

pytestmark = [
    pytest.mark.usefixtures("registry"),
    pytest.mark.parametrize("database_url", ["postgres"], indirect=True),  # SQLite has one writer
]

CROSSING = (31.2990, 121.4480)  # a stretch of road, away from the register's doors
DEG_PER_M = 1 / 111_320
REPORTS = 60  # of each problem


@pytest.fixture
async def second_worker(settings: Settings, app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Another app on the same database: its own engine, connections and ingest writer."""
    other = create_app(settings)
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


def fire_call(number: int, hours: float) -> dict[str, Any]:
    _, name, address, _, _ = XINYUAN
    return police_call(f"W{number}", at(hours), name=name, address=address)


def street_case(number: int, hours: float) -> dict[str, Any]:
    lat, lng = CROSSING
    north = (number % 5) * 8  # all within 50 m of their neighbours
    return city_case(
        f"C{number}", at(hours), code="09006", label="占道经营", address="临汾路与汾西路交叉口",
        wgs84=(lat + north * DEG_PER_M, lng),
    )  # fmt: skip


async def follow_events(
    client: httpx.AsyncClient, headers: dict[str, str], since: int, stop: asyncio.Event
) -> list[int]:
    """Poll /events from ``since`` as a live client does, until told to stop and caught up."""
    seen: list[int] = []
    while True:
        stopping = stop.is_set()
        response = await client.get("/api/v1/events", params={"since": since, "limit": 1000}, headers=headers)
        assert response.status_code == 200, response.text
        events = response.json()["events"]
        seen += [event["seq"] for event in events]
        since = seen[-1] if seen else since
        if stopping and not events:
            return seen
        await asyncio.sleep(0.005)


async def test_two_workers_racing_reports_of_one_problem_make_one_incident(
    client: httpx.AsyncClient, second_worker: httpx.AsyncClient, principals: Principals, state: AppState
) -> None:
    workers = [client, second_worker]
    start = (await client.get("/api/v1/events", params={"since": 0, "limit": 1}, headers=principals.operator)).json()
    stop = asyncio.Event()
    reader = asyncio.create_task(follow_events(second_worker, principals.operator, start["head_seq"], stop))
    rng = random.Random(16)
    hours = [rng.uniform(0, 60) for _ in range(REPORTS)]  # arrival order is not time order

    async def send(number: int) -> list[dict[str, Any]]:
        await asyncio.sleep(rng.uniform(0, 0.05))
        worker = workers[number % 2]
        police = await push_ok(worker, principals.police, "police", fire_call(number, hours[number]))
        city = await push_ok(worker, principals.city, "city", street_case(number, hours[number]))
        return police + city

    results = [r for batch in await asyncio.gather(*(send(n) for n in range(REPORTS))) for r in batch]
    stop.set()
    seen = await reader

    fire = {r["incident_id"] for r in results if r["source_record_id"].startswith("W")}
    street = {r["incident_id"] for r in results if r["source_record_id"].startswith("C")}
    assert all(r["status"] == "created" for r in results)
    assert len(fire) == 1 and len(street) == 1 and fire != street
    for incident_id in (*fire, *street):
        detail = (await client.get(f"/api/v1/incidents/{incident_id}", headers=principals.operator)).json()
        assert detail["report_count"] == REPORTS and len(detail["records"]) == REPORTS
    events = (
        await client.get(
            "/api/v1/events", params={"since": start["head_seq"], "limit": 5000}, headers=principals.operator
        )
    ).json()["events"]
    assert sorted(e["type"] for e in events) == ["created"] * 2 + ["report_attached"] * (2 * REPORTS - 2)
    assert [e["seq"] for e in events] == seen == list(range(start["head_seq"] + 1, start["head_seq"] + 1 + len(events)))
    async with state.db.session() as session:
        check, _ = await verify_ledger(session)
    assert check.ok, check.problems
