"""The reference client: what it remembers, and that it resumes across a server restart and the 45-s rule."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from service.live.watch import StreamCursor, event_line, main, stream_url, watch
from service.settings import Settings
from service.state import AppState
from tests.live.liveapp import create_live_app, make_key, write_incidents
from tests.live.support import free_port, serve, wait_until


def test_the_cursor_follows_snapshot_events_and_pings() -> None:
    cursor = StreamCursor()
    assert cursor.resume_params() == {}
    assert (
        cursor.apply(
            {"type": "snapshot", "epoch": "e" * 32, "seq": 7, "incidents": [{"id": 1, "status": "new"}], "stats": {}}
        )
        is not None
    )
    assert cursor.resume_params() == {"since": "7", "epoch": "e" * 32}
    event = {
        "type": "event",
        "seq": 8,
        "event": {"type": "status_changed", "at": "2026-11-28T06:03:22+00:00", "actor": "op"},
        "incident": {"id": 1, "status": "closed", "category": "noise", "sources": ["police"]},
    }
    line = cursor.apply(event)
    assert line is not None and line.startswith("#8 14:03:22 status_changed")
    assert cursor.since == 8 and cursor.open_incidents == {}
    assert cursor.apply(event) is None  # a repeat is ignored
    assert cursor.apply({"type": "ping", "seq": 12}) is None
    assert cursor.since == 12  # nothing for us up to the ping's seq
    cursor.apply({"type": "ping", "seq": 10})
    assert cursor.since == 12


def test_event_lines_survive_odd_messages() -> None:
    assert event_line({"seq": 3}).startswith("#3 --:--:--")


def test_stream_urls() -> None:
    cursor = StreamCursor(epoch="abc", since=5)
    assert stream_url("https://brain.example/base/", "T", cursor, {"grid": ["G1", "G2"]}) == (
        "wss://brain.example/base/ws/live?ticket=T&since=5&epoch=abc&grid=G1&grid=G2"
    )
    assert stream_url("http://127.0.0.1:8000", "T", StreamCursor(), {}) == "ws://127.0.0.1:8000/ws/live?ticket=T"


def test_main_needs_a_key(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CB_WATCH_KEY", raising=False)
    assert main(["--url", "http://127.0.0.1:1"]) == 2
    assert "--key" in capsys.readouterr().err


def test_main_stops_when_the_key_is_refused(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    async def scenario() -> int:
        async with serve(create_live_app(Settings(database_url=sqlite_url))) as address:
            return await asyncio.to_thread(main, ["--url", f"http://{address}", "--key", "cbk_nope_nope"])

    assert asyncio.run(scenario()) == 2
    assert "refused" in capsys.readouterr().err


@asynccontextmanager
async def watching(address: str, key: str, silence_limit_s: float = 45.0) -> AsyncIterator[list[str]]:
    lines: list[str] = []
    task = asyncio.create_task(watch(f"http://{address}", key, out=lines.append, silence_limit_s=silence_limit_s))
    try:
        yield lines
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def seqs_in(lines: list[str]) -> list[int]:
    return [int(match.group(1)) for line in lines if (match := re.match(r"#(\d+) ", line))]


async def _has(lines: list[str], count: int) -> bool:
    return len(seqs_in(lines)) >= count


async def test_it_resumes_after_a_server_restart_without_losing_or_repeating_events(sqlite_url: str) -> None:
    settings = Settings(database_url=sqlite_url)
    port = free_port()
    app = create_live_app(settings)
    async with serve(app, port) as address:
        state: AppState = app.state.cb
        key = await make_key(state.db, "display")
        await write_incidents(state.db, 2)
    async with watching(address, key) as lines:
        app = create_live_app(settings)
        async with serve(app, port):
            state = app.state.cb
            await wait_until(lambda: _is(any(line.startswith("snapshot at seq 2") for line in lines)), within=5)
            await write_incidents(state.db, 3)
            await wait_until(lambda: _has(lines, 3), within=5)
        # The server is gone: the watcher retries; events written meanwhile are waiting in the ledger.
        app = create_live_app(settings)
        async with serve(app, port):
            state = app.state.cb
            await write_incidents(state.db, 4)
            await wait_until(lambda: _has(lines, 7), within=15)
    assert seqs_in(lines) == [3, 4, 5, 6, 7, 8, 9]
    assert any(line.startswith("connected, resuming after seq 5") for line in lines)


async def test_silence_longer_than_the_limit_makes_it_reconnect(sqlite_url: str) -> None:
    app = create_live_app(Settings(database_url=sqlite_url, ws_ping_after_s=60))
    async with serve(app) as address:
        state: AppState = app.state.cb
        key = await make_key(state.db, "display")
        async with watching(address, key, silence_limit_s=0.3) as lines:
            # Silence, then a resumed connection: the client holds a position (on a loaded machine the
            # first try may time out before its snapshot, and a snapshot taken after the write below
            # would hold the incident rather than stream it).
            await wait_until(lambda: _is(any("no event and no ping" in line for line in lines)), within=5)
            await wait_until(lambda: _is(any(line.startswith("connected, resuming after seq 0") for line in lines)), 5)
            await write_incidents(state.db, 1)
            await wait_until(lambda: _has(lines, 1), within=5)
        assert any(line.startswith("connected, resuming after seq 0") for line in lines)


async def _is(value: bool) -> bool:
    return value
