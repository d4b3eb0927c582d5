"""Redis goes away and comes back: ingest goes on, clients get every event, in order, exactly once.

Two workers in this process share one SQLite ledger and a redis-server of our own: worker A
writes (its commits are published through Redis), worker B serves the WebSocket clients.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from websockets.asyncio.client import ClientConnection, connect

from service.settings import Settings
from service.state import AppState
from tests.live.liveapp import create_live_app, make_key, running_state, write_incidents
from tests.live.support import RedisServer, serve, wait_until

pytestmark = pytest.mark.redis


async def events_until(ws: ClientConnection, last_seq: int, within: float) -> list[int]:
    seqs: list[int] = []
    async with asyncio.timeout(within):
        while not seqs or seqs[-1] < last_seq:
            message = json.loads(await ws.recv())
            if message["type"] == "event":
                seqs.append(message["seq"])
    return seqs


async def timed_writes(state: AppState, count: int) -> float:
    """Write one event per transaction; return the slowest commit in seconds."""
    slowest = 0.0
    for _ in range(count):
        started = time.monotonic()
        await write_incidents(state.db, 1)
        slowest = max(slowest, time.monotonic() - started)
    return slowest


async def both_healthy(*states: AppState) -> bool:
    return all([await state.hub.broker.healthy() for state in states if state.hub is not None])


async def test_losing_redis_loses_no_event(sqlite_url: str, own_redis: RedisServer) -> None:
    settings = Settings(database_url=sqlite_url, redis_url=own_redis.url, live_poll_interval_s=0.5)
    app = create_live_app(settings)
    async with running_state(settings) as writer, serve(app) as address:
        reader: AppState = app.state.cb
        await wait_until(lambda: both_healthy(writer, reader), within=5)
        key = await make_key(writer.db, "display")
        query = urlencode({"token": key})
        async with (
            connect(f"ws://{address}/ws/live?{query}", compression=None) as ws,
            connect(f"ws://{address}/ws/live?{query}", compression=None) as leaver,
        ):
            snapshot: dict[str, Any] = json.loads(await ws.recv())
            assert snapshot["seq"] == 0
            await leaver.recv()

            # Redis up: events travel through it.
            await timed_writes(writer, 10)
            received = await events_until(ws, 10, within=5)
            since = (await events_until(leaver, 10, within=5))[-1]
            await leaver.close()
            assert reader.metrics.registry.get_sample_value("cb_live_gap_fills_total") == 0

            # Redis down: commits stay fast, the reader's ledger watch delivers.
            own_redis.stop()
            assert await timed_writes(writer, 10) < 0.5
            received += await events_until(ws, 20, within=5)
            assert reader.metrics.registry.get_sample_value("cb_live_gap_fills_total") >= 10

            # Redis back: both brokers reconnect by themselves; events flow through Redis again.
            own_redis.start()
            await wait_until(lambda: both_healthy(writer, reader), within=15)
            fills_before = reader.metrics.registry.get_sample_value("cb_live_gap_fills_total")
            await timed_writes(writer, 10)
            received += await events_until(ws, 30, within=5)
            assert received == list(range(1, 31))
            assert reader.metrics.registry.get_sample_value("cb_live_gap_fills_total") == fills_before

        # A client that left before the outage resumes with since and misses nothing.
        resume = urlencode({"token": key, "since": since, "epoch": snapshot["epoch"]})
        async with connect(f"ws://{address}/ws/live?{resume}", compression=None) as back:
            assert await events_until(back, 30, within=5) == list(range(11, 31))
