from __future__ import annotations

import logging

import httpx
import pytest

from tests.conftest import PASSWORD, Principals, bearer


async def test_missing_or_wrong_credentials_get_401(client: httpx.AsyncClient, principals: Principals) -> None:
    assert (await client.get("/api/v1/entities")).status_code == 401
    wrong = await client.get("/api/v1/entities", headers=bearer("cbk_000000000000_nope"))
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    assert (await client.get("/api/v1/entities", headers=bearer("eyJhbGciOiJIUzI1NiJ9.e30.x"))).status_code == 401


async def test_wrong_role_gets_403(client: httpx.AsyncClient, principals: Principals) -> None:
    assert (await client.get("/api/v1/entities", headers=principals.police)).status_code == 403
    assert (await client.post("/api/v1/entities", json={"name": "x"}, headers=principals.inspector)).status_code == 403
    assert (await client.get("/api/v1/ledger/verify", headers=principals.operator)).status_code == 403
    assert (await client.get("/api/v1/ledger/verify", headers=principals.admin)).status_code == 200


async def test_login_and_me(client: httpx.AsyncClient, principals: Principals) -> None:
    bad = await client.post("/api/v1/auth/token", data={"username": "op", "password": "wrong-password"})
    assert bad.status_code == 401
    me = await client.get("/api/v1/auth/me", headers=principals.operator)
    assert me.json() == {"username": "op", "role": "operator", "source": None}
    key_me = await client.get("/api/v1/auth/me", headers=principals.police)
    assert key_me.json()["role"] == "department" and key_me.json()["source"] == "police"


async def test_admin_creates_users_and_keys(client: httpx.AsyncClient, principals: Principals) -> None:
    made = await client.post(
        "/api/v1/users", json={"username": "zhang", "role": "inspector", "password": PASSWORD}, headers=principals.admin
    )
    assert made.status_code == 201
    again = await client.post(
        "/api/v1/users", json={"username": "zhang", "role": "inspector", "password": PASSWORD}, headers=principals.admin
    )
    assert again.status_code == 409
    key = await client.post("/api/v1/keys", json={"role": "department", "source": "city"}, headers=principals.admin)
    assert key.status_code == 201 and key.json()["key"].startswith("cbk_")
    no_source = await client.post("/api/v1/keys", json={"role": "department"}, headers=principals.admin)
    assert no_source.status_code == 400 and no_source.json()["error"]["details"][0]["field"] == "source"
    forbidden = await client.post("/api/v1/keys", json={"role": "admin"}, headers=principals.operator)
    assert forbidden.status_code == 403


async def test_secrets_are_stored_hashed(state, principals: Principals) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from service.auth.models import Principal

    async with state.db.session() as session:
        hashes = (await session.scalars(select(Principal.secret_hash))).all()
    assert hashes and all(h.startswith("$argon2") for h in hashes)
    assert PASSWORD not in " ".join(hashes)


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
async def test_operations_endpoints(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    if path == "/metrics":
        assert "cb_http_requests_total" in response.text


async def test_keys_and_passwords_never_reach_the_logs(
    client: httpx.AsyncClient, principals: Principals, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await client.post("/api/v1/auth/token", data={"username": "op", "password": "a-secret-password"})
    await client.get("/api/v1/entities?token=abc", headers=principals.police)
    text = caplog.text
    assert "a-secret-password" not in text
    assert principals.police["Authorization"].split()[1] not in text
