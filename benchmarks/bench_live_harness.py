"""Shared harness of the live-stream benchmarks (bench_live_*.py); not a figure of its own.

- a fresh PostgreSQL database per run, migrated with Alembic and dropped afterwards;
- the live stream served by `uvicorn --workers N` (tests/live/liveapp.py: the real hub, broker
  and /ws/live route, plus a test-only endpoint that commits incidents and their ledger events
  exactly as the incident services do), with Redis as the broker;
- a deliberately cheap WebSocket client (a raw asyncio protocol that only splits frames), so
  the two cores go to the server, not to the clients measuring it.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import resource
import struct
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from service.db.database import Database  # noqa: E402
from tests.live.liveapp import TEST_SECRET, make_key  # noqa: E402
from tests.live.support import ServerProcess, migrate  # noqa: E402

POSTGRES_URL = os.environ.get("CB_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("CB_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")

_SEQ = re.compile(rb'^\{"type":"(event|snapshot|ping)".*?"seq":(\d+)')
_AT = re.compile(rb'"at":"([^"]+)"')


def raise_open_files_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))


# ── database and servers ────────────────────────────────────────────────────────────────────────


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://") + "/postgres")
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@asynccontextmanager
async def bench_database() -> AsyncIterator[str]:
    name = f"cb_bench_live_{uuid.uuid4().hex[:10]}"
    await _admin(f'CREATE DATABASE "{name}"')
    url = f"{POSTGRES_URL}/{name}"
    try:
        await asyncio.to_thread(migrate, url)
        yield url
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def live_servers(database_url: str, workers: int, **settings: str) -> AsyncIterator[ServerProcess]:
    env = {"CB_DATABASE_URL": database_url, "CB_REDIS_URL": REDIS_URL, "CB_SECRET_KEY": TEST_SECRET, **settings}
    server = ServerProcess(env, workers=workers)
    await asyncio.to_thread(server.start, 60)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)


async def display_key(database_url: str) -> str:
    db = Database(database_url)
    try:
        return await make_key(db, "display")
    finally:
        await db.dispose()


async def ws_ticket(address: str, key: str) -> str:
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:
        answer = await http.post("/api/v1/auth/ws-ticket", headers={"Authorization": f"Bearer {key}"})
        answer.raise_for_status()
        return str(answer.json()["ticket"])


async def write_events(http: httpx.AsyncClient, count: int, per_transaction: int = 1) -> list[int]:
    answer = await http.post("/_test/events", json={"count": count, "per_transaction": per_transaction})
    answer.raise_for_status()
    seqs: list[int] = answer.json()["seqs"]
    return seqs


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# ── a cheap WebSocket client ────────────────────────────────────────────────────────────────────

OnMessage = Callable[["StreamClient", bytes, float], None]


class StreamClient(asyncio.Protocol):
    """Just enough RFC 6455 for a server that sends unfragmented text frames: splits frames,
    answers pings, and tracks the seq of what it receives (in order, exactly once)."""

    def __init__(self, path: str, host: str, on_message: OnMessage | None = None, resume_from: int | None = None):
        self.path, self.host, self.on_message = path, host, on_message
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self.close_code: int | None = None
        self.snapshot_seq: int | None = None
        self.last_seq: int | None = resume_from  # a resuming client expects resume_from + 1 next
        self.events = 0
        self.out_of_order = 0
        self.messages = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(self.close_code)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[:end]).split(b"\r\n", 1)[0]
            del self.buffer[: end + 4]
            if b" 101 " not in status:
                self.upgraded.set_exception(ConnectionError(status.decode()))
                return
            self.upgraded.set_result(None)
        self._frames()

    def _frames(self) -> None:
        buffer = self.buffer
        now = time.time()
        offset = 0
        while len(buffer) - offset >= 2:
            opcode, length = buffer[offset] & 0x0F, buffer[offset + 1] & 0x7F
            header = 2
            if length == 126:
                if len(buffer) - offset < 4:
                    break
                length, header = struct.unpack_from("!H", buffer, offset + 2)[0], 4
            elif length == 127:
                if len(buffer) - offset < 10:
                    break
                length, header = struct.unpack_from("!Q", buffer, offset + 2)[0], 10
            if len(buffer) - offset < header + length:
                break
            payload = bytes(buffer[offset + header : offset + header + length])
            offset += header + length
            if opcode == 1:
                self._message(payload, now)
            elif opcode == 9:
                self._send(0xA, payload)  # pong
            elif opcode == 8:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                if self.transport is not None:
                    self.transport.close()
        del buffer[:offset]

    def _message(self, payload: bytes, now: float) -> None:
        self.messages += 1
        match = _SEQ.match(payload)
        if match is not None:
            kind, seq = match.group(1), int(match.group(2))
            if kind == b"snapshot":
                self.snapshot_seq = self.last_seq = seq
            elif kind == b"event":
                self.events += 1
                if self.last_seq is not None and seq != self.last_seq + 1:
                    self.out_of_order += 1
                self.last_seq = seq
        if self.on_message is not None:
            self.on_message(self, payload, now)

    def _send(self, opcode: int, payload: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self._send(0x8, struct.pack("!H", 1000))
            self.transport.close()


async def open_client(
    address: str, params: dict[str, Any], on_message: OnMessage | None = None, resume_from: int | None = None
) -> StreamClient:
    """Connect and upgrade. Frames that come with the upgrade are read before this returns, so a
    resuming client says where it resumes from here, not afterwards."""
    host, port = address.split(":")
    path = f"/ws/live?{urlencode(params)}"
    loop = asyncio.get_running_loop()
    _transport, client = await loop.create_connection(
        lambda: StreamClient(path, address, on_message, resume_from), host, int(port)
    )
    await client.upgraded
    return client


async def open_clients(
    address: str, params: dict[str, Any], count: int, on_message: OnMessage | None = None, in_flight: int = 50
) -> list[StreamClient]:
    """Connect `count` clients, at most `in_flight` handshakes at a time, and wait for each snapshot."""
    gate = asyncio.Semaphore(in_flight)

    async def one() -> StreamClient:
        async with gate:
            client = await open_client(address, params, on_message)
            for _ in range(500):
                if client.snapshot_seq is not None or client.last_seq is not None:
                    break
                await asyncio.sleep(0.01)
            return client

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def wait_for(condition: Callable[[], bool], within: float, step: float = 0.005) -> bool:
    """Poll until `condition()` holds or `within` seconds pass; True if it held."""
    deadline = time.monotonic() + within
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(step)


def event_time(payload: bytes) -> float | None:
    """The event's `at` (appended, just before its commit) as a Unix time."""
    match = _AT.search(payload)
    return datetime.fromisoformat(match.group(1).decode()).timestamp() if match else None
