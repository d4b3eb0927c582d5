"""argon2 never runs on the event loop, and runs once per API key per process.

Production argon2 (64 MiB, 3 passes) took 0.6–0.9 s of CPU per verification on the demo machine.
Run on the loop, it stalled every request and stream of the process: each minute, when the wall's
key left the cache, the wall's burst of requests verified it once per request, one after another,
and `/map/entities` or `/auth/ws-ticket` took 1–3 s for everyone (docs/architecture.md, "argon2
never runs on the event loop"). Tests keep argon2 cheap, so a hasher that takes its time shows it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import update

from service.auth.models import Principal
from service.auth.service import KeyCache
from service.state import AppState
from tests.conftest import PASSWORD, Principals

ARGON2_TIME = 0.3  # seconds each hash or verification takes here


class SlowHasher(PasswordHasher):
    """The test's cheap hasher, taking ARGON2_TIME of its caller's thread as production argon2 does."""

    def __init__(self, like: PasswordHasher):
        super().__init__(time_cost=like.time_cost, memory_cost=like.memory_cost, parallelism=like.parallelism)
        self.verifications = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verifications += 1
        time.sleep(ARGON2_TIME)
        return super().verify(hash, password)

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        time.sleep(ARGON2_TIME)
        return super().hash(password, salt=salt)


@pytest.fixture
async def slow_hasher(state: AppState, principals: Principals) -> AsyncIterator[SlowHasher]:
    hasher = SlowHasher(state.hasher)
    state.hasher = hasher
    state.key_cache = KeyCache()  # forget the keys the fixtures used
    yield hasher


async def longest_stall(work: Awaitable[Any]) -> tuple[Any, float]:
    """Run ``work`` and return its result with the longest time the event loop went unanswered meanwhile."""
    stalls = [0.0]
    done = asyncio.Event()

    async def tick() -> None:
        while not done.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            stalls.append(time.perf_counter() - before - 0.01)

    ticker = asyncio.create_task(tick())
    try:
        result = await work
    finally:
        done.set()
        await ticker
    return result, max(stalls)


async def test_verifying_a_key_or_a_password_leaves_the_loop_free(
    client: httpx.AsyncClient, principals: Principals, slow_hasher: SlowHasher
) -> None:
    answer, stall = await longest_stall(client.get("/api/v1/map/entities", headers=principals.display))
    assert answer.status_code == 200
    assert slow_hasher.verifications == 1
    assert stall < ARGON2_TIME / 2, f"the loop stood still {stall:.2f} s while a key was verified"

    answer, stall = await longest_stall(
        client.post("/api/v1/auth/token", data={"username": "op", "password": PASSWORD})
    )
    assert answer.status_code == 200
    assert stall < ARGON2_TIME / 2, f"the loop stood still {stall:.2f} s while a password was verified"
    answer, stall = await longest_stall(
        client.post("/api/v1/auth/token", data={"username": "nobody", "password": PASSWORD})
    )
    assert answer.status_code == 401
    assert stall < ARGON2_TIME / 2, f"the loop stood still {stall:.2f} s while a password was hashed"


async def test_a_burst_with_a_new_key_verifies_it_once_and_others_are_not_held_up(
    client: httpx.AsyncClient, principals: Principals, slow_hasher: SlowHasher
) -> None:
    wall = principals.display
    burst = [
        client.get("/api/v1/stats", headers=wall),
        client.get("/api/v1/map/entities", headers=wall),
        client.get("/api/v1/incidents", headers=wall),
        client.post("/api/v1/auth/ws-ticket", headers=wall),
    ]

    async def operator_ticket() -> float:
        await asyncio.sleep(0.02)  # while the wall's key is being verified
        began = time.perf_counter()
        answer = await client.post("/api/v1/auth/ws-ticket", headers=principals.operator)
        assert answer.status_code == 200
        return time.perf_counter() - began

    *answers, operator_took = await asyncio.gather(*burst, operator_ticket())
    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    assert slow_hasher.verifications == 1  # not once per request of the burst
    assert operator_took < ARGON2_TIME / 2, f"an operator's ticket waited {operator_took:.2f} s for the wall's key"


async def test_a_known_key_is_checked_again_without_argon2_and_revocation_still_holds(
    client: httpx.AsyncClient, principals: Principals, state: AppState, slow_hasher: SlowHasher
) -> None:
    state.key_cache.ttl_s = 0  # every request reads the principal again
    for _ in range(3):
        assert (await client.get("/api/v1/stats", headers=principals.display)).status_code == 200
    assert slow_hasher.verifications == 1

    wrong = {"Authorization": principals.display["Authorization"][:-4] + "AAAA"}
    assert (await client.get("/api/v1/stats", headers=wrong)).status_code == 401  # same key id, other secret
    assert slow_hasher.verifications == 2

    async with state.db.transaction() as uow:
        await uow.session.execute(update(Principal).where(Principal.role == "display").values(active=False))
    assert (await client.get("/api/v1/stats", headers=principals.display)).status_code == 401
    async with state.db.transaction() as uow:
        await uow.session.execute(update(Principal).where(Principal.role == "display").values(active=True))
    assert (await client.get("/api/v1/stats", headers=principals.display)).status_code == 200
    assert slow_hasher.verifications == 3  # forgotten when it was revoked: verified afresh
