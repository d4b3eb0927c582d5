"""Withdrawing access: an admin lists and revokes API keys, deactivates and reactivates users and
sets their passwords (docs/http-api.md, "Withdrawing a credential"; docs/operations.md §3).

A revoked key is refused by the worker that revoked it on its next request, and by every other
worker once its key cache lets the key go (KeyCache.ttl_s: a minute). A deactivated user's tokens
and tickets stop at once: they are checked against the principal on every use.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from service.auth import service as auth_service
from service.auth.service import Caller, KeyCache
from service.auth.tokens import mint_token
from service.main import create_app
from service.settings import Settings
from service.state import AppState
from service.vocabulary import Role
from tests.conftest import PASSWORD, Principals, bearer, login

KEYS = "/api/v1/keys"
USERS = "/api/v1/users"


def key_id_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].split()[1].split("_")[1]


def secret_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].split()[1].split("_", 2)[2]


@asynccontextmanager
async def another_worker(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, AppState]]:
    """A second worker of the app on the same database, with its own process state (its key cache)."""
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://worker-b") as http:
            yield http, app.state.cb


class Clock:
    """time.monotonic for KeyCache alone, moved forward at will."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.ahead


async def test_admins_list_keys_without_their_secrets(client: httpx.AsyncClient, principals: Principals) -> None:
    listed = await client.get(KEYS, headers=principals.admin)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    by_id = {item["key_id"]: item for item in items}
    police = by_id[key_id_of(principals.police)]
    assert police["role"] == "department" and police["source"] == "police" and police["active"] is True
    assert police["name"] and police["created_at"]
    assert set(police) == {"key_id", "name", "role", "source", "active", "created_at"}
    assert by_id[key_id_of(principals.display)]["role"] == "display"
    for key in (principals.police, principals.market, principals.city, principals.display):
        assert secret_of(key) not in listed.text
    assert "argon2" not in listed.text and "hash" not in listed.text
    for who in (principals.operator, principals.inspector, principals.police, principals.display):
        assert (await client.get(KEYS, headers=who)).status_code == 403
    assert (await client.get(KEYS)).status_code == 401


async def test_a_revoked_key_gets_401_on_its_next_request(
    client: httpx.AsyncClient, principals: Principals, state: AppState
) -> None:
    police = principals.police
    assert (await client.get("/api/v1/sources", headers=police)).status_code == 200  # trusted by the cache now
    key_id = key_id_of(police)
    assert (await client.delete(f"{KEYS}/{key_id}", headers=principals.operator)).status_code == 403
    assert (await client.delete(f"{KEYS}/{key_id}", headers=police)).status_code == 403
    assert (await client.get("/api/v1/sources", headers=police)).status_code == 200

    revoked = await client.delete(f"{KEYS}/{key_id}", headers=principals.admin)
    assert revoked.status_code == 204, revoked.text
    refused = await client.get("/api/v1/sources", headers=police)
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert (await client.post("/api/v1/auth/ws-ticket", headers=police)).status_code == 401

    listed = {k["key_id"]: k for k in (await client.get(KEYS, headers=principals.admin)).json()["items"]}
    assert listed[key_id]["active"] is False
    assert listed[key_id_of(principals.market)]["active"] is True  # the others are untouched
    assert (await client.get("/api/v1/sources", headers=principals.market)).status_code == 200

    again = await client.delete(f"{KEYS}/{key_id}", headers=principals.admin)
    assert again.status_code == 204  # revoking a revoked key changes nothing
    unknown = await client.delete(f"{KEYS}/0123456789ab", headers=principals.admin)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["details"] == [{"field": "key_id", "reason": "no such key"}]
    malformed = await client.delete(f"{KEYS}/not-a-key-id", headers=principals.admin)
    assert malformed.status_code == 422 and malformed.json()["error"]["details"][0]["field"] == "path.key_id"


async def test_another_worker_refuses_a_revoked_key_once_its_cache_lets_it_go(
    client: httpx.AsyncClient,
    principals: Principals,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docs/operations.md §3: a revoked key stops working everywhere within a minute."""
    clock = Clock()
    monkeypatch.setattr(auth_service, "time", clock)
    wall = principals.display
    async with another_worker(settings) as (worker_b, state_b):
        assert state_b.key_cache.ttl_s <= 60
        assert (await worker_b.get("/api/v1/stats", headers=wall)).status_code == 200  # B trusts the key now
        revoked = await client.delete(f"{KEYS}/{key_id_of(wall)}", headers=principals.admin)  # on worker A
        assert revoked.status_code == 204
        assert (await client.get("/api/v1/stats", headers=wall)).status_code == 401  # A: at once
        clock.ahead = state_b.key_cache.ttl_s - 1
        assert (await worker_b.get("/api/v1/stats", headers=wall)).status_code == 200  # B: the bound
        clock.ahead = state_b.key_cache.ttl_s + 1
        assert (await worker_b.get("/api/v1/stats", headers=wall)).status_code == 401
        clock.ahead = 0  # and it stays refused, not trusted again from the old entry
        assert (await worker_b.get("/api/v1/stats", headers=wall)).status_code == 401


async def test_a_deactivated_user_cannot_log_in_and_their_tokens_and_tickets_stop(
    client: httpx.AsyncClient, principals: Principals, state: AppState
) -> None:
    op = principals.operator
    ticket = (await client.post("/api/v1/auth/ws-ticket", headers=op)).json()["ticket"]
    assert (await client.patch(f"{USERS}/op", json={"active": False}, headers=op)).status_code == 403
    assert (await client.patch(f"{USERS}/op", json={"active": False}, headers=principals.police)).status_code == 403

    deactivated = await client.patch(f"{USERS}/op", json={"active": False}, headers=principals.admin)
    assert deactivated.status_code == 200, deactivated.text
    assert deactivated.json() == {"username": "op", "role": "operator", "active": False}
    assert (await client.get("/api/v1/auth/me", headers=op)).status_code == 401  # the token issued before
    assert await auth_service.redeem_ticket(state.db, ticket, state.signing_key, state.tickets) is None
    login_again = await client.post("/api/v1/auth/token", data={"username": "op", "password": PASSWORD})
    assert login_again.status_code == 401

    roster = (await client.get(USERS, headers=principals.admin)).json()["items"]
    assert "op" not in [u["username"] for u in roster]  # whoever assigns work sees the active ones
    everyone = (await client.get(USERS, params={"include_inactive": "true"}, headers=principals.admin)).json()
    assert {"username": "op", "role": "operator", "active": False} in everyone["items"]
    assert {"username": "insp", "role": "inspector", "active": True} in everyone["items"]
    assert "argon2" not in str(everyone)
    asked = await client.get(USERS, params={"include_inactive": "true"}, headers=principals.inspector)
    assert asked.status_code == 403
    # An operator still reads the roster of active users, but not the deactivated ones.
    other_op = await client.post(
        USERS, json={"username": "op2", "role": "operator", "password": PASSWORD}, headers=principals.admin
    )
    assert other_op.status_code == 201 and other_op.json()["active"] is True
    op2 = await login(client, "op2")
    assert (await client.get(USERS, headers=op2)).status_code == 200
    assert (await client.get(USERS, params={"include_inactive": "true"}, headers=op2)).status_code == 403

    reactivated = await client.patch(f"{USERS}/op", json={"active": True}, headers=principals.admin)
    assert reactivated.status_code == 200 and reactivated.json()["active"] is True
    assert (await client.get("/api/v1/auth/me", headers=await login(client, "op"))).status_code == 200


async def test_a_new_password_ends_the_tokens_issued_before_it(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    insp = principals.inspector
    short = await client.patch(f"{USERS}/insp", json={"password": "short"}, headers=principals.admin)
    assert short.status_code == 422
    assert short.json()["error"]["details"][0]["field"] == "password"
    assert (await client.get("/api/v1/auth/me", headers=insp)).status_code == 200  # nothing changed

    changed = await client.patch(f"{USERS}/insp", json={"password": "a-new-password-1"}, headers=principals.admin)
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"username": "insp", "role": "inspector", "active": True}
    assert (await client.get("/api/v1/auth/me", headers=insp)).status_code == 401
    old = await client.post("/api/v1/auth/token", data={"username": "insp", "password": PASSWORD})
    assert old.status_code == 401
    new = await login(client, "insp", "a-new-password-1")
    assert (await client.get("/api/v1/auth/me", headers=new)).json()["username"] == "insp"
    assert (await client.get("/api/v1/auth/me", headers=principals.inspector2)).status_code == 200  # others keep theirs


async def test_a_token_issued_before_tokens_carried_a_password_stamp_lasts_until_it_expires(
    client: httpx.AsyncClient, principals: Principals, state: AppState
) -> None:
    me = (await client.get("/api/v1/auth/me", headers=principals.operator)).json()
    assert me["username"] == "op"
    async with state.db.session() as session:
        [op] = [u for u in await auth_service.list_users(session) if u.name == "op"]
    old_style = bearer(mint_token(state.signing_key, op.id, "access", 60))
    assert (await client.get("/api/v1/auth/me", headers=old_style)).status_code == 200
    await client.patch(f"{USERS}/op", json={"active": False}, headers=principals.admin)
    assert (await client.get("/api/v1/auth/me", headers=old_style)).status_code == 401  # deactivation still holds


async def test_nobody_deactivates_themself_nor_the_last_admin(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    own = await client.patch(f"{USERS}/admin", json={"active": False}, headers=principals.admin)
    assert own.status_code == 422
    assert own.json()["error"]["details"] == [{"field": "active", "reason": "the caller's own account"}]
    made = await client.post(
        USERS, json={"username": "admin2", "role": "admin", "password": PASSWORD}, headers=principals.admin
    )
    assert made.status_code == 201
    admin2 = await login(client, "admin2")
    assert (await client.patch(f"{USERS}/admin", json={"active": False}, headers=admin2)).status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=principals.admin)).status_code == 401

    script = await client.post(KEYS, json={"role": "admin", "label": "admin-script"}, headers=admin2)
    admin_key = bearer(script.json()["key"])
    last = await client.patch(f"{USERS}/admin2", json={"active": False}, headers=admin_key)
    assert last.status_code == 422
    assert last.json()["error"]["details"] == [{"field": "active", "reason": "the last active admin"}]
    assert (await client.get("/api/v1/auth/me", headers=admin2)).status_code == 200
    # A password of one's own may be changed; it ends one's own tokens too.
    assert (
        await client.patch(f"{USERS}/admin2", json={"password": "another-one-2"}, headers=admin2)
    ).status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=admin2)).status_code == 401


async def test_changing_a_user_names_what_is_wrong(client: httpx.AsyncClient, principals: Principals) -> None:
    admin = principals.admin
    unknown = await client.patch(f"{USERS}/nobody", json={"active": False}, headers=admin)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["details"] == [{"field": "username", "reason": "no such user"}]
    keys = (await client.get(KEYS, headers=admin)).json()["items"]
    a_key = await client.patch(f"{USERS}/{keys[0]['name']}", json={"active": False}, headers=admin)
    assert a_key.status_code == 404  # keys are revoked through /keys, not changed as users
    bad_name = await client.patch(f"{USERS}/a b", json={"active": False}, headers=admin)
    assert bad_name.status_code == 422 and bad_name.json()["error"]["details"][0]["field"] == "path.username"
    not_bool = await client.patch(f"{USERS}/insp", json={"active": "perhaps"}, headers=admin)
    assert not_bool.status_code == 422 and not_bool.json()["error"]["details"][0]["field"] == "active"
    nothing = await client.patch(f"{USERS}/insp", json={}, headers=admin)
    assert nothing.status_code == 200 and nothing.json()["active"] is True
    assert (await client.get("/api/v1/auth/me", headers=principals.inspector)).status_code == 200
    assert (await client.patch(f"{USERS}/insp", json={"active": False})).status_code == 401


def test_the_key_cache_forgets_a_principal_it_was_told_of() -> None:
    cache = KeyCache()
    caller = Caller(7, "wall", Role.DISPLAY, None, "key")
    other = Caller(8, "police", Role.DEPARTMENT, "police", "key")
    cache.put("cbk_aaaaaaaaaaaa_one", caller, "hash")
    cache.put("cbk_bbbbbbbbbbbb_two", other, "hash")
    cache.forget_principal(7)
    assert cache.get("cbk_aaaaaaaaaaaa_one") is None and cache.verified_hash("cbk_aaaaaaaaaaaa_one") is None
    assert cache.get("cbk_bbbbbbbbbbbb_two") == other
