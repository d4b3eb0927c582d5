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
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from service.logs import JsonFormatter, redact
from tests.conftest import PASSWORD, Principals
from tests.reliability.conftest import push
from tests.reliability.records import police_call
from tests.reliability.servers import serve_in_loop

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
        "headers: {'authorization': 'Bearer cbk_0123456789ab_hunter2-secret'}",
        'payload {"access_token": "hunter2-secret"}',
        "connecting to postgresql+asyncpg://cb:hunter2-secret@db:5432/cb",
        "GET /ws/live?ticket=hunter2-secret&since=5",
        "caller +86 138-1234-5678 reported noise",
        "caller 021-56781234 reported noise",
    ],
)
def test_careless_log_calls_are_scrubbed(careless: str) -> None:
    """Whatever a future change logs by mistake, the record factory scrubs it before any handler."""
    scrubbed = redact(careless)
    assert "hunter2-secret" not in scrubbed and "1234-5678" not in scrubbed and "56781234" not in scrubbed
