"""A WebSocket ticket opens one connection, once, within its life: in one process (memory) and
across workers (Redis). Real servers, a real WebSocket client."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from urllib.parse import urlencode

import httpx
import jwt
import pytest
from fastapi import FastAPI
from redis import Redis
from redis.exceptions import RedisError
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from service.auth.service import create_key
from service.auth.tickets import KEY_PREFIX, MemoryTicketBook, RedisTicketBook
from service.main import create_app
from service.settings import Settings
from service.state import AppState
from tests.live.support import free_port, serve

REDIS_URL = os.environ.get("CB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_url() -> str:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except RedisError as exc:
        pytest.skip(f"Redis is not available at {REDIS_URL}: {exc}")
    finally:
        client.close()
    return REDIS_URL


@asynccontextmanager
async def workers(settings: Settings, count: int) -> AsyncIterator[list[tuple[str, AppState]]]:
    """`count` workers of the real app on one database, each with its own process state."""
    async with AsyncExitStack() as stack:
        running = []
        for _ in range(count):
            app: FastAPI = create_app(settings)
            address = await stack.enter_async_context(serve(app))
            running.append((address, app.state.cb))
        yield running


async def display_ticket(address: str, state: AppState) -> str:
    async with state.db.transaction() as uow:
        _, key = await create_key(uow.session, "display", None, None, set(), state.hasher)
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:
        answer = await http.post("/api/v1/auth/ws-ticket", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["ticket"])


async def stream_status(address: str, **params: str) -> int:
    """101 once the stream opened and sent its snapshot; the HTTP status of the refusal otherwise."""
    try:
        async with connect(f"ws://{address}/ws/live?{urlencode(params)}", compression=None, open_timeout=5) as ws:
            first = json.loads(await ws.recv())
        assert first["type"] == "snapshot"
        return 101
    except InvalidStatus as refused:
        return refused.response.status_code


async def test_a_ticket_opens_one_connection_in_one_process(settings: Settings) -> None:
    assert not settings.redis_url  # the embedded default: one process, no Redis
    async with workers(settings, 1) as [(address, state)]:
        assert isinstance(state.tickets, MemoryTicketBook)
        ticket = await display_ticket(address, state)
        assert await stream_status(address, ticket=ticket) == 101
        assert await stream_status(address, ticket=ticket) == 403
        assert await stream_status(address, token=ticket) == 403  # passed as a token it is still the same ticket
        fresh = await display_ticket(address, state)
        assert await stream_status(address, token=fresh) == 101  # a ticket as a token: also once
        assert await stream_status(address, ticket=fresh) == 403


async def test_an_expired_ticket_is_refused(settings: Settings) -> None:
    async with workers(settings.model_copy(update={"ws_ticket_ttl_s": 1}), 1) as [(address, state)]:
        ticket = await display_ticket(address, state)
        await asyncio.sleep(2.1)  # exp is whole seconds: past it for sure
        assert await stream_status(address, ticket=ticket) == 403


@pytest.mark.redis
async def test_a_ticket_opens_one_connection_across_workers(settings: Settings, redis_url: str) -> None:
    shared = settings.model_copy(update={"redis_url": redis_url})
    async with workers(shared, 2) as [(first, first_state), (second, second_state)]:
        assert isinstance(first_state.tickets, RedisTicketBook) and isinstance(second_state.tickets, RedisTicketBook)
        ticket = await display_ticket(first, first_state)
        assert await stream_status(second, ticket=ticket) == 101
        assert await stream_status(first, ticket=ticket) == 403  # another worker redeemed it
        assert await stream_status(second, ticket=ticket) == 403

        expiring = await display_ticket(first, first_state)
        assert await stream_status(first, ticket=expiring) == 101
        remaining_ms = Redis.from_url(redis_url).pttl(KEY_PREFIX + _ticket_id(expiring))
        assert 0 < remaining_ms <= 60_000  # the record of a redemption lasts as long as the ticket would


@pytest.mark.redis
async def test_an_expired_ticket_is_refused_with_redis(settings: Settings, redis_url: str) -> None:
    shared = settings.model_copy(update={"redis_url": redis_url, "ws_ticket_ttl_s": 1})
    async with workers(shared, 2) as [(first, first_state), (second, _)]:
        ticket = await display_ticket(first, first_state)
        await asyncio.sleep(2.1)
        assert await stream_status(second, ticket=ticket) == 403


async def test_without_redis_each_worker_still_redeems_a_ticket_once() -> None:
    """Redis away (nothing listens on the port): the worker's own memory keeps its tickets single-use."""
    book = RedisTicketBook(f"redis://127.0.0.1:{free_port()}/0")
    try:
        expires_at = time.time() + 60
        assert await book.redeem("t-1", expires_at) is True
        assert await book.redeem("t-1", expires_at) is False
        assert await book.redeem("t-2", time.time() - 1) is False  # expired
    finally:
        await book.close()


async def test_memory_forgets_tickets_once_they_would_have_expired() -> None:
    book = MemoryTicketBook()
    assert await book.redeem("soon", time.time() + 0.2)
    assert await book.redeem("later", time.time() + 60)
    assert not await book.redeem("soon", time.time() + 0.2)
    await asyncio.sleep(0.3)
    assert await book.redeem("other", time.time() + 60)
    assert len(book) == 2  # "soon" is forgotten: memory holds only tickets still alive


def _ticket_id(ticket: str) -> str:
    return str(jwt.decode(ticket, options={"verify_signature": False})["jti"])
