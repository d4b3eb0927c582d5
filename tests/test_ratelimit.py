"""Rate limits (429 with Retry-After): ingest per key and per IP, and /auth/token per IP and per
user name, so that a password cannot be guessed by brute force."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from service.auth import service as auth_service
from service.settings import Settings
from service.state import AppState
from tests.conftest import PASSWORD, bearer
from tests.support.records import police_call

Client = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"ingest_rate_per_key": 5, "ingest_rate_per_ip": 8, "login_rate_per_ip": 4, "login_rate_per_user": 3}
    )


@pytest.fixture
def client_from(app: FastAPI) -> Client:
    """An HTTP client that calls from the given IP address."""

    @asynccontextmanager
    async def client(ip: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app, client=(ip, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http

    return client


@pytest.fixture
async def keys(state: AppState) -> dict[str, dict[str, str]]:
    sources = set(state.adapters.known_sources())
    async with state.db.transaction() as uow:
        await auth_service.create_user(uow.session, "admin", "admin", PASSWORD, state.hasher)
        made = {s: (await auth_service.create_key(uow.session, "department", s, None, sources, state.hasher))[1]
                for s in ("police", "city")}  # fmt: skip
    return {source: bearer(key) for source, key in made.items()}


def assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "rate_limited"
    retry_after = response.headers["retry-after"]
    assert retry_after.isdigit() and 1 <= int(retry_after) <= 60


async def test_ingest_per_key_counts_records(client_from: Client, keys: dict[str, dict[str, str]]) -> None:
    async with client_from("10.0.0.1") as first, client_from("10.0.0.2") as second:
        url = "/api/v1/feeds/police/records"
        batch = [police_call(f"K{n}") for n in range(3)]
        assert (await first.post(url, json=batch, headers=keys["police"])).status_code == 200
        assert (await first.post(url, json=police_call("K3"), headers=keys["police"])).status_code == 200
        assert_limited(await first.post(url, json=batch, headers=keys["police"]))  # 4 + 3 records > 5
        assert (await second.post(url, json=police_call("K4"), headers=keys["police"])).status_code == 200  # 5th
        assert_limited(await second.post(url, json=police_call("K5"), headers=keys["police"]))  # the key, anywhere
        files = await second.post(
            "/api/v1/feeds/police/files", files={"file": ("p.csv", b"jjdbh\n", "text/csv")}, headers=keys["police"]
        )
        assert_limited(files)
        other_key = await second.post("/api/v1/feeds/city/records", json={"taskId": "C1"}, headers=keys["city"])
        assert other_key.status_code == 200  # another key is not held back


async def test_ingest_per_ip_across_keys(client_from: Client, keys: dict[str, dict[str, str]]) -> None:
    async with client_from("10.0.0.3") as shared, client_from("10.0.0.4") as elsewhere:
        for n in range(4):
            assert (
                await shared.post("/api/v1/feeds/police/records", json=police_call(f"I{n}"), headers=keys["police"])
            ).status_code == 200
            assert (
                await shared.post("/api/v1/feeds/city/records", json={"taskId": f"C{n}"}, headers=keys["city"])
            ).status_code == 200
        assert_limited(await shared.post("/api/v1/feeds/city/records", json={"taskId": "C9"}, headers=keys["city"]))
        assert (
            await elsewhere.post("/api/v1/feeds/city/records", json={"taskId": "C9"}, headers=keys["city"])
        ).status_code == 200


@pytest.mark.usefixtures("keys")
async def test_login_per_ip(client_from: Client) -> None:
    async with client_from("10.0.0.5") as attacker, client_from("10.0.0.6") as colleague:
        for n in range(4):
            wrong = await attacker.post("/api/v1/auth/token", data={"username": f"user{n}", "password": "guess-123"})
            assert wrong.status_code == 401
        assert_limited(await attacker.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD}))
        ok = await colleague.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD})
        assert ok.status_code == 200


@pytest.mark.usefixtures("keys")
async def test_login_per_user_name_from_many_addresses(client_from: Client) -> None:
    for n in range(3):
        async with client_from(f"10.0.1.{n}") as attacker:
            wrong = await attacker.post("/api/v1/auth/token", data={"username": "admin", "password": f"guess-{n}"})
            assert wrong.status_code == 401
    async with client_from("10.0.1.99") as another:
        assert_limited(await another.post("/api/v1/auth/token", data={"username": "admin", "password": "guess-x"}))
        other_user = await another.post("/api/v1/auth/token", data={"username": "someone", "password": "guess-x"})
        assert other_user.status_code == 401  # other names are not locked with it
