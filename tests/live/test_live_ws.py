"""/ws/live through a real uvicorn server and the `websockets` client (SQLite, in-process broker)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from service.auth.service import create_user, revoke_key, update_user
from service.settings import Settings
from service.state import AppState
from tests.live.liveapp import TEST_HASHER, create_live_app, make_key, write_incidents
from tests.live.support import serve, wait_until

Server = tuple[str, FastAPI]
ServerFactory = Callable[..., AbstractAsyncContextManager[Server]]


@pytest.fixture
def live_server(sqlite_url: str) -> ServerFactory:
    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Server]:
        settings = Settings(database_url=sqlite_url, live_poll_interval_s=0.2, **overrides)
        app = create_live_app(settings)
        async with serve(app) as address:
            yield address, app

    return start


def state_of(app: FastAPI) -> AppState:
    state: AppState = app.state.cb
    return state


def url(address: str, **params: Any) -> str:
    query = urlencode({name: value for name, value in params.items() if value is not None}, doseq=True)
    return f"ws://{address}/ws/live?{query}"


async def next_message(ws: ClientConnection, within: float = 5.0) -> dict[str, Any]:
    async with asyncio.timeout(within):
        message: dict[str, Any] = json.loads(await ws.recv())
    return message


async def next_events(ws: ClientConnection, count: int, within: float = 5.0) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(within):
        while len(events) < count:
            message = json.loads(await ws.recv())
            if message["type"] == "event":
                events.append(message)
    return events


async def refused_status(address: str, **params: Any) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url(address, **params), compression=None):
            pass
    return refused.value.response.status_code


async def test_the_handshake_is_refused_without_a_valid_credential(live_server: ServerFactory) -> None:
    async with live_server() as (address, app):
        db = state_of(app).db
        department = await make_key(db, "department", "police")
        assert await refused_status(address) == 403
        assert await refused_status(address, token="not-a-token") == 403
        assert await refused_status(address, token=department) == 403  # department keys never get the stream
        assert await refused_status(address, ticket=await make_key(db, "display")) == 403  # a key is no ticket
        display = await make_key(db, "display")
        assert await refused_status(address, token=display, since="-1") == 400
        assert await refused_status(address, token=display, since="²") == 400
        assert await refused_status(address, token=display, grid="x" * 100) == 400
        async with connect(url(address, token=display), compression=None) as ws:
            assert (await next_message(ws))["type"] == "snapshot"


async def test_every_reading_role_may_connect_with_a_ticket(live_server: ServerFactory) -> None:
    async with live_server() as (address, app):
        for role in ("display", "operator"):
            key = await make_key(state_of(app).db, role)
            async with httpx.AsyncClient(base_url=f"http://{address}") as http:
                answer = await http.post("/api/v1/auth/ws-ticket", headers={"Authorization": f"Bearer {key}"})
            ticket = answer.json()["ticket"]
            async with connect(url(address, ticket=ticket), compression=None) as ws:
                assert (await next_message(ws))["type"] == "snapshot"


async def test_a_snapshot_then_every_event_in_order(live_server: ServerFactory) -> None:
    async with live_server() as (address, app):
        db = state_of(app).db
        key = await make_key(db, "display")
        await write_incidents(db, 3)
        async with connect(url(address, token=key), compression=None) as ws:
            snapshot = await next_message(ws)
            assert snapshot["type"] == "snapshot" and snapshot["seq"] == 3
            assert snapshot["epoch"] == state_of(app).hub.epoch  # type: ignore[union-attr]
            assert [incident["id"] for incident in snapshot["incidents"]] == [1, 2, 3]
            assert snapshot["stats"]["open"] == 3
            await write_incidents(db, 2)
            events = await next_events(ws, 2)
        assert [event["seq"] for event in events] == [4, 5]
        assert events[0]["event"]["type"] == "created" and events[0]["event"]["seq"] == 4
        assert events[0]["incident"]["id"] == 4 and events[0]["incident"]["status"] == "new"


async def test_resume_with_since_replays_the_missed_events_then_goes_live(live_server: ServerFactory) -> None:
    async with live_server() as (address, app):
        db = state_of(app).db
        key = await make_key(db, "display")
        await write_incidents(db, 2)
        async with connect(url(address, token=key), compression=None) as ws:
            snapshot = await next_message(ws)
            await write_incidents(db, 2)
            seen = await next_events(ws, 2)
        epoch, since = snapshot["epoch"], seen[-1]["seq"]
        assert since == 4
        await write_incidents(db, 5)  # missed while away
        async with connect(url(address, token=key, since=since, epoch=epoch), compression=None) as ws:
            replayed = await next_events(ws, 5)
            await write_incidents(db, 1)
            live = await next_events(ws, 1)
        assert [m["seq"] for m in replayed + live] == [5, 6, 7, 8, 9, 10]
        # Up to date: nothing is replayed, the next message is the next event.
        async with connect(url(address, token=key, since=10, epoch=epoch), compression=None) as ws:
            await write_incidents(db, 1)
            assert (await next_message(ws))["seq"] == 11


@pytest.mark.parametrize("case", ["other epoch", "since beyond the head", "since too old"])
async def test_a_client_that_cannot_resume_gets_a_snapshot(live_server: ServerFactory, case: str) -> None:
    async with live_server(ws_replay_limit=3) as (address, app):
        db = state_of(app).db
        key = await make_key(db, "display")
        await write_incidents(db, 5)
        epoch = state_of(app).hub.epoch  # type: ignore[union-attr]
        since, claimed_epoch = {
            "other epoch": (4, "another-history"),
            "since beyond the head": (9, epoch),
            "since too old": (1, epoch),
        }[case]
        async with connect(url(address, token=key, since=since, epoch=claimed_epoch), compression=None) as ws:
            snapshot = await next_message(ws)
        assert snapshot["type"] == "snapshot" and snapshot["seq"] == 5 and snapshot["epoch"] == epoch


async def test_filters_apply_to_the_snapshot_and_to_events(live_server: ServerFactory) -> None:
    async with live_server() as (address, app):
        db = state_of(app).db
        key = await make_key(db, "display")
        await write_incidents(db, 2, grid="north")
        await write_incidents(db, 2, grid="south")
        async with connect(url(address, token=key, grid="north"), compression=None) as ws:
            snapshot = await next_message(ws)
            assert {incident["grid"] for incident in snapshot["incidents"]} == {"north"}
            await write_incidents(db, 1, grid="south")
            await write_incidents(db, 1, grid="north", category="fire")
            await write_incidents(db, 1, grid="north")
            events = await next_events(ws, 2)
        assert [event["seq"] for event in events] == [6, 7]
        async with connect(url(address, token=key, grid="north", category="noise"), compression=None) as ws:
            snapshot = await next_message(ws)
        assert len(snapshot["incidents"]) == 3


async def test_an_idle_stream_sends_pings_with_the_head(live_server: ServerFactory) -> None:
    async with live_server(ws_ping_after_s=0.3) as (address, app):
        db = state_of(app).db
        key = await make_key(db, "display")
        await write_incidents(db, 2)
        async with connect(url(address, token=key), compression=None) as ws:
            assert (await next_message(ws))["type"] == "snapshot"
            started = time.monotonic()
            assert await next_message(ws, within=3) == {"type": "ping", "seq": 2}
            assert time.monotonic() - started >= 0.25


async def test_many_clients_joining_during_writes_see_no_gap_and_no_overlap(live_server: ServerFactory) -> None:
    async with live_server(ws_ping_after_s=0.2) as (address, app):
        state = state_of(app)
        hub = state.hub
        assert hub is not None
        key = await make_key(state.db, "display")
        await write_incidents(state.db, 3)
        stop_writing, writing_done = asyncio.Event(), asyncio.Event()
        final: dict[str, int] = {}

        async def write() -> None:
            while not stop_writing.is_set():
                await write_incidents(state.db, 2, per_transaction=2)
                await asyncio.sleep(0.001)

        async def watch(joined: asyncio.Event) -> list[dict[str, Any]]:
            received: list[dict[str, Any]] = []
            async with connect(url(address, token=key), compression=None) as ws:
                while True:
                    received.append(await next_message(ws, within=10))
                    joined.set()
                    # Done once the head is reached: by an event, the snapshot itself, or a ping.
                    if writing_done.is_set() and received[-1]["seq"] >= final["head"]:
                        return received

        writer = asyncio.create_task(write())
        watchers = []
        for _ in range(8):  # each joins while the writer commits, a few commits after the one before
            joined = asyncio.Event()
            watchers.append(asyncio.create_task(watch(joined)))
            await joined.wait()
            await wait_until(lambda seq=hub.last_seq: _is(hub.last_seq >= seq + 6), within=5)  # type: ignore[misc]
        stop_writing.set()
        await writer
        final["head"] = hub.last_seq
        writing_done.set()
        streams = await asyncio.gather(*watchers)
        snapshot_seqs = set()
        for stream in streams:
            snapshot, events = stream[0], [m for m in stream[1:] if m["type"] == "event"]
            assert snapshot["type"] == "snapshot"
            snapshot_seqs.add(snapshot["seq"])
            assert [event["seq"] for event in events] == list(range(snapshot["seq"] + 1, final["head"] + 1))
            assert len(snapshot["incidents"]) == snapshot["seq"]  # one incident per event, all open
        assert len(snapshot_seqs) == len(streams)  # each joined at its own moment


async def test_a_client_that_reads_nothing_is_closed_with_4008_while_others_and_ingest_carry_on(
    live_server: ServerFactory,
) -> None:
    async with live_server(ws_client_queue=8) as (address, app):
        state = state_of(app)
        key = await make_key(state.db, "display")
        # A tiny receive buffer and no reading: the server's send blocks soon and the queue overflows.
        slow_socket = socket.socket()
        slow_socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        host, port = address.split(":")
        slow_socket.connect((host, int(port)))
        async with (
            connect(url(address, token=key), sock=slow_socket, compression=None, max_queue=1) as slow,
            connect(url(address, token=key), compression=None) as reader,
        ):
            assert (await next_message(reader))["type"] == "snapshot"
            received: list[int] = []
            started = time.monotonic()
            for _ in range(60):
                await write_incidents(state.db, 1, pad=100_000)  # big events fill the buffers quickly
                received += [event["seq"] for event in await next_events(reader, 1)]
            assert time.monotonic() - started < 20
            assert received == list(range(1, 61))
            await wait_until(
                lambda: _is(state.metrics.registry.get_sample_value("cb_ws_closed_slow_total") == 1), within=5
            )
            assert state.hub.client_count == 1  # type: ignore[union-attr]
            # Once it reads again it finds what was sent, then the close frame.
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await next_message(slow)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4008


async def _is(value: bool) -> bool:
    return value


async def closed_with(ws: ClientConnection, within: float = 5.0) -> int | None:
    """The close code the server sent, reading past whatever came before it."""
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(within):
            while True:
                await ws.recv()
    return closed.value.rcvd.code if closed.value.rcvd is not None else None


async def test_a_stream_ends_when_its_key_is_revoked_or_its_user_deactivated_or_given_a_new_password(
    live_server: ServerFactory,
) -> None:
    async with live_server(live_recheck_s=0.2) as (address, app):
        db = state_of(app).db
        revoked, kept = await make_key(db, "display"), await make_key(db, "display")
        async with db.transaction() as uow:
            for name in ("wang", "zhao"):
                await create_user(uow.session, name, "operator", "long-enough-1", TEST_HASHER)

        async def user_token(name: str) -> str:
            async with httpx.AsyncClient(base_url=f"http://{address}") as http:
                answer = await http.post("/api/v1/auth/token", data={"username": name, "password": "long-enough-1"})
            return str(answer.json()["access_token"])

        wang, zhao = await user_token("wang"), await user_token("zhao")
        async with (
            connect(url(address, token=revoked), compression=None) as revoked_ws,
            connect(url(address, token=kept), compression=None) as kept_ws,
            connect(url(address, token=wang), compression=None) as deactivated_ws,
            connect(url(address, token=zhao), compression=None) as new_password_ws,
        ):
            for ws in (revoked_ws, kept_ws, deactivated_ws, new_password_ws):
                assert (await next_message(ws))["type"] == "snapshot"
            async with db.transaction() as uow:
                await revoke_key(uow.session, revoked.split("_")[1])
                await update_user(uow.session, "wang", active=False)
                await update_user(uow.session, "zhao", password="another-one-2", hasher=TEST_HASHER)
            for ws in (revoked_ws, deactivated_ws, new_password_ws):
                assert await closed_with(ws) == 1008
            await write_incidents(db, 1)
            assert [event["seq"] for event in await next_events(kept_ws, 1)] == [1]  # the others go on
        assert await refused_status(address, token=revoked) == 403
