"""The live stream on PostgreSQL: concurrent writers, REPEATABLE READ snapshots, and two server
processes sharing Redis (writes into one, clients on both)."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from websockets.asyncio.client import connect

from service.db.database import Database
from service.ledger.service import ledger_position
from service.settings import Settings
from service.state import AppState
from tests.live.liveapp import TEST_SECRET, change_status, create_live_app, make_key, open_incidents, write_incidents
from tests.live.support import ServerProcess, serve

pytestmark = pytest.mark.postgres


@pytest.fixture
async def database(postgres_url: str) -> AsyncIterator[Database]:
    db = Database(postgres_url)
    try:
        yield db
    finally:
        await db.dispose()


async def head_of(db: Database) -> int:
    async with db.session() as session:
        return (await ledger_position(session)).seq


async def read_until(address: str, key: str, done: asyncio.Event, final: dict[str, int]) -> list[dict[str, Any]]:
    """Connect, then collect messages until the writers are done and the final head has been reached."""
    received: list[dict[str, Any]] = []
    async with connect(f"ws://{address}/ws/live?{urlencode({'token': key})}", compression=None) as ws:
        while True:
            async with asyncio.timeout(15):
                received.append(json.loads(await ws.recv()))
            if done.is_set() and received[-1]["seq"] >= final["head"]:
                return received


@asynccontextmanager
async def cancelled_on_exit(tasks: list[asyncio.Task[Any]]) -> AsyncIterator[None]:
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def check_stream(stream: list[dict[str, Any]], head: int) -> int:
    snapshot, events = stream[0], [message for message in stream[1:] if message["type"] == "event"]
    assert snapshot["type"] == "snapshot"
    assert [event["seq"] for event in events] == list(range(snapshot["seq"] + 1, head + 1)), "a gap or an overlap"
    return int(snapshot["seq"])


async def test_clients_joining_while_concurrent_writers_commit(postgres_url: str, database: Database) -> None:
    settings = Settings(database_url=postgres_url, live_poll_interval_s=0.2, ws_ping_after_s=0.2)
    app = create_live_app(settings)
    async with serve(app) as address:
        state: AppState = app.state.cb
        key = await make_key(database, "display")
        await write_incidents(state.db, 5)
        some_incidents = list(await open_incidents(database))
        done, final = asyncio.Event(), {}

        async def write(rounds: int) -> None:
            # Concurrent transactions: their after-commit hooks may run out of seq order in this worker.
            for _ in range(rounds):
                await write_incidents(state.db, random.randint(1, 4), per_transaction=4)
                if random.random() < 0.25:
                    await change_status(state.db, random.choice(some_incidents), "dispatched")

        async def join_later(delay: float) -> list[dict[str, Any]]:
            await asyncio.sleep(delay)
            return await read_until(address, key, done, final)

        readers = [asyncio.create_task(join_later(i * 0.05)) for i in range(8)]
        async with cancelled_on_exit(readers):
            await asyncio.gather(*(write(25) for _ in range(4)))
            final["head"] = await head_of(database)
            done.set()
            streams = await asyncio.gather(*readers)

        current = await open_incidents(database)
        for stream in streams:
            check_stream(stream, final["head"])
            # Applying the events to the snapshot gives today's state: the snapshot was one moment.
            incidents = {incident["id"]: incident for incident in stream[0]["incidents"]}
            for message in stream[1:]:
                if message["type"] == "event":
                    incident = message["incident"]
                    if incident["status"] in ("new", "dispatched"):
                        incidents[incident["id"]] = incident
                    else:
                        incidents.pop(incident["id"], None)
            assert incidents == current


@pytest.mark.redis
@pytest.mark.slow
async def test_two_server_processes_deliver_every_event_once_in_order(
    postgres_url: str, redis_url: str, database: Database
) -> None:
    # A slow ledger watch: whatever arrives within the test came through Redis (or a gap fill it triggered).
    env = {
        "CB_DATABASE_URL": postgres_url,
        "CB_REDIS_URL": redis_url,
        "CB_SECRET_KEY": TEST_SECRET,
        "CB_LIVE_POLL_INTERVAL_S": "30",
        "CB_WS_PING_AFTER_S": "0.3",
    }
    servers = [ServerProcess(env), ServerProcess(env)]
    for server in servers:
        await asyncio.to_thread(server.start)
    try:
        key = await make_key(database, "display")
        done, final = asyncio.Event(), {}
        readers = [asyncio.create_task(read_until(servers[1].address, key, done, final)) for _ in range(6)]
        readers += [asyncio.create_task(read_until(servers[0].address, key, done, final)) for _ in range(2)]

        async def post(server: ServerProcess, count: int, per_transaction: int) -> None:
            async with httpx.AsyncClient(base_url=f"http://{server.address}", timeout=30) as http:
                for _ in range(count):
                    answer = await http.post(
                        "/_test/events", json={"count": per_transaction, "per_transaction": per_transaction}
                    )
                    answer.raise_for_status()

        # Writes into the first server from several connections at once; a little into the second too,
        # so the two publish interleaved and each sees the other's events out of order.
        async with cancelled_on_exit(readers):
            await asyncio.sleep(0.5)
            await asyncio.gather(
                *(post(servers[0], 15, random.choice((1, 3))) for _ in range(4)), post(servers[1], 10, 2)
            )
            final["head"] = await head_of(database)
            done.set()
            streams = await asyncio.gather(*readers)
        for stream in streams:
            check_stream(stream, final["head"])
        assert sum(len(stream) for stream in streams) > 8
    finally:
        for server in servers:
            await asyncio.to_thread(server.stop)
