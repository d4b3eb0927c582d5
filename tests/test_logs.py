"""Logs: one JSON line per request with its request id, and no secret or personal data in any line.

Everything the tests do is logged at DEBUG through a handler set up as in production (JsonFormatter
on the root logger), and through pytest's caplog; every line of both is searched.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from service import logs
from service.logs import JsonFormatter, redact
from tests.conftest import PASSWORD, Principals
from tests.support.feeds import push
from tests.support.phones import PhoneFinder, SpelledPhone
from tests.support.records import police_call
from tests.support.servers import serve_in_loop

CALLER_PHONE = "13812345678"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The JSON lines production would write (service/logs.py configure_logging), at DEBUG."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def secret_parts(headers: dict[str, str]) -> list[str]:
    """A bearer credential, and for an API key also its secret half alone."""
    token = headers["Authorization"].split(" ", 1)[1]
    return [token, token.split("_", 2)[2]] if token.startswith("cbk_") else [token]


async def test_access_log_is_json_with_the_request_id(
    client: httpx.AsyncClient, principals: Principals, json_log: io.StringIO
) -> None:
    response = await client.get("/api/v1/incidents", params={"grid": "310106"}, headers=principals.operator)
    given = await client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]  # every line is JSON
    access = [line for line in lines if line["logger"] == "service.http" and line["msg"] == "request"]
    first = next(line for line in access if line["path"] == "/api/v1/incidents")
    assert first["method"] == "GET" and first["status"] == 200 and isinstance(first["duration_ms"], float)
    assert first["request_id"] == response.headers["x-request-id"] and first["level"] == "info" and first["ts"]
    assert "310106" not in json.dumps(first)  # no query strings: they may carry tickets
    health = next(line for line in access if line["path"] == "/healthz")
    assert health["request_id"] == "trace-42" == given.headers["x-request-id"]


async def test_no_secret_or_phone_reaches_any_log_line(
    app: FastAPI,
    client: httpx.AsyncClient,
    principals: Principals,
    json_log: io.StringIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = [PASSWORD, "wrong-password-123", CALLER_PHONE]
    for who in ("admin", "operator", "police", "display"):
        secrets += secret_parts(getattr(principals, who))

    # Passwords in the login form, right and wrong; every kind of bearer credential.
    assert (
        await client.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD})
    ).status_code == 200
    wrong = await client.post("/api/v1/auth/token", data={"username": "admin", "password": "wrong-password-123"})
    assert wrong.status_code == 401
    forged = await client.get("/api/v1/records", headers={"Authorization": "Bearer cbk_0123456789ab_notarealsecret"})
    assert forged.status_code == 401
    secrets.append("notarealsecret")
    # The police caller's phone, pushed in a record (also in the free text) and read back.
    call = police_call("LOG-1", bjrdh=CALLER_PHONE, bjnr=f"报警人{CALLER_PHONE}称楼下噪声")
    assert (await push(client, principals.police, "police", call)).status_code == 200
    assert (await client.get("/api/v1/records", headers=principals.operator)).status_code == 200
    assert (await client.get("/api/v1/events", headers=principals.display)).status_code == 200
    # WebSocket credentials travel in the query string, which uvicorn logs.
    ticket = (await client.post("/api/v1/auth/ws-ticket", headers=principals.operator)).json()["ticket"]
    secrets.append(ticket)
    async with serve_in_loop(app) as address:
        async with connect(f"ws://{address}/ws/live?ticket={ticket}&since=0") as ws:
            assert json.loads(await ws.recv())["type"] in ("snapshot", "event")
        police_key = secret_parts(principals.police)[0]
        with pytest.raises(InvalidStatus):  # a department key may not watch the wall
            async with connect(f"ws://{address}/ws/live?token={police_key}"):
                pass
        async with httpx.AsyncClient(base_url=f"http://{address}") as http:  # uvicorn's access log, if on
            await http.get(f"/api/v1/incidents?token={police_key}", headers=principals.operator)

    lines = json_log.getvalue().splitlines()
    assert any("WebSocket" in line for line in lines), "uvicorn's WebSocket lines were not captured"
    everything = [*lines, *(r.getMessage() for r in caplog.records), caplog.text]
    leaks = sorted({secret[:12] + "…" for secret in secrets for line in everything if secret in line})
    assert not leaks, f"secrets in the logs: {leaks}"


@pytest.mark.parametrize(
    "careless",
    [
        "login attempt user=admin password=hunter2-secret",
        'quoted "ticket=hunter2-secret" and \\ a backslash',
        "headers: {'authorization': 'Bearer cbk_0123456789ab_hunter2-secret'}",
        'payload {"access_token": "hunter2-secret"}',
        "connecting to postgresql+asyncpg://cb:hunter2-secret@db:5432/cb",
        "GET /ws/live?ticket=hunter2-secret&since=5",
        "caller +86 138-1234-5678 reported noise",
        "caller 021-56781234 reported noise",
        "caller １３８／１２３４／５６７８ reported noise",
        "caller (138)12345678 reported noise",
    ],
)
def test_careless_log_calls_are_scrubbed(careless: str) -> None:
    """Whatever a future change logs by mistake, the record factory scrubs it before any handler."""
    scrubbed = redact(careless)
    assert "hunter2-secret" not in scrubbed and "1234-5678" not in scrubbed and "56781234" not in scrubbed
    assert "１２３４" not in scrubbed and "12345678" not in scrubbed
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, careless, None, None)
    line = json.loads(JsonFormatter().format(record))  # a JSON line even when the text has quotes
    assert "hunter2-secret" not in line["msg"]


@pytest.mark.parametrize(
    ("message", "args"),
    [
        ('%s - "WebSocket /ws/live?ticket=%s" [accepted]', ("127.0.0.1:50000", "tkt.abc-def_123")),
        ('%s - "WebSocket /ws/live?since=3&ticket=%s" 403', ("127.0.0.1:50000", "tkt.abc-def_123")),
        ('token=%s \\ and "key": "%s"', ("tkt.abc-def_123", "tkt.abc-def_123")),
        ("tab\tnewline\nquote\" ticket='%s'", ("tkt.abc-def_123",)),
    ],
)
def test_a_redacted_line_is_still_json(message: str, args: tuple[str, ...]) -> None:
    """Redaction runs on each field before the line is serialised, so it cannot break an escape."""
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, message, args, None)
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert "tkt.abc-def_123" not in line and "[REDACTED]" in entry["msg"]
    assert entry["msg"].replace("[REDACTED]", "") == (message % args).replace("tkt.abc-def_123", "")


async def test_every_line_of_a_run_with_websocket_tickets_is_json(
    app: FastAPI,
    client: httpx.AsyncClient,
    principals: Principals,
    json_log: io.StringIO,
) -> None:
    """Tickets in WebSocket URLs (uvicorn logs the request line with its quotes), accepted and refused,
    and a caller's number in free text: every line parses as JSON and holds neither."""
    tickets: list[str] = []
    phones = PhoneFinder([SpelledPhone(digits, "") for digits in ("13812345678", "02165432100")])
    call = police_call("LOG-WS", bjrdh="138 1234 5678", bjnr="报警人１３８／１２３４／５６７８，座机(021)65432100")
    assert (await push(client, principals.police, "police", call)).status_code == 200
    async with serve_in_loop(app) as address:
        for headers, query in [
            (principals.operator, "&since=0"),
            (principals.display, ""),
            (principals.admin, "&grid=x"),
        ]:
            ticket = (await client.post("/api/v1/auth/ws-ticket", headers=headers)).json()["ticket"]
            tickets.append(ticket)
            async with connect(f"ws://{address}/ws/live?ticket={ticket}{query}") as ws:
                assert json.loads(await ws.recv())["type"] in ("snapshot", "event")
        with pytest.raises(InvalidStatus):  # a ticket that is not one: refused, and logged as refused
            async with connect(f"ws://{address}/ws/live?ticket={tickets[0]}x"):
                pass
        police = (await client.post("/api/v1/auth/ws-ticket", headers=principals.police)).json()["ticket"]
        tickets.append(police)
        with pytest.raises(InvalidStatus):  # a department may not watch
            async with connect(f"ws://{address}/ws/live?ticket={police}"):
                pass

    lines = json_log.getvalue().splitlines()
    assert sum("WebSocket /ws/live" in line for line in lines) >= 5, "uvicorn's WebSocket lines were not captured"
    for line in lines:
        entry = json.loads(line)  # every line, not only most of them
        text = json.dumps(entry, ensure_ascii=False)
        assert not [ticket for ticket in tickets if ticket in text or ticket[:16] in text], line
        assert not phones.found(text), line


_PIECES = ["cbk_", "_x-", "eyJ", "ab.cd.ef", "0123456789ab", "://", "u:pw@", "Bearer ", "token=", "KEY: "]
_SECRETISH = st.lists(st.sampled_from([*_PIECES, "'", '"', " ", "passWord", "secret", "ticket", "13812345678"]))


@settings(max_examples=300, deadline=None)
@given(st.one_of(_SECRETISH.map("".join), st.text(max_size=60)))
def test_the_quick_search_skips_only_texts_no_redaction_would_change(text: str) -> None:
    """redact searches once for what every redaction needs before running them; the outcome is the
    same as running all five on every text."""
    thorough = text
    for pattern, replacement in logs._REDACTIONS:
        thorough = pattern.sub(replacement, thorough)
    assert redact(text) == logs.mask_phone_numbers(thorough)
