"""Who the client is, behind a real `community-brain serve`: X-Forwarded-For is believed only from the
proxies in CB_TRUSTED_PROXIES, so a client cannot reset the /auth/token limit by changing the header."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from tests.support.databases import sqlite_database
from tests.support.servers import ServerProcess

LOGIN_LIMIT = 3  # per address a minute
Serve = Callable[[str], Awaitable[ServerProcess]]  # CB_TRUSTED_PROXIES -> a running server


async def failed_logins(server: ServerProcess, forwarded_for: list[str]) -> list[int]:
    """One wrong login per X-Forwarded-For value, each with another user name (so only the
    per-address limit can answer 429); returns the status codes."""
    statuses = []
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        for n, address in enumerate(forwarded_for):
            response = await http.post(
                "/api/v1/auth/token",
                data={"username": f"nobody{n}", "password": "wrong-password"},
                headers={"X-Forwarded-For": address},
            )
            statuses.append(response.status_code)
    return statuses


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[Serve]:
    url = await sqlite_database(tmp_path)
    servers: list[ServerProcess] = []

    async def start(trusted_proxies: str) -> ServerProcess:
        env = {
            "CB_DATABASE_URL": url,
            "CB_REDIS_URL": "",
            "CB_DATA_DIR": str(tmp_path),
            "CB_SECRET_KEY": "forwarded-test-secret-key-of-32-bytes",
            "CB_LOGIN_RATE_PER_IP": str(LOGIN_LIMIT),
            "CB_LOGIN_RATE_PER_USER": "100",
            "CB_LOG_LEVEL": "WARNING",
            "CB_TRUSTED_PROXIES": trusted_proxies,
        }
        server = ServerProcess(env, tmp_path / f"server-{len(servers)}.log")
        servers.append(server)
        await server.start()
        return server

    yield start
    for server in servers:
        server.stop()


async def test_a_changed_forwarded_for_does_not_reset_the_limit_by_default(serve: Serve) -> None:
    server = await serve("")
    statuses = await failed_logins(server, [f"203.0.113.{n}" for n in range(LOGIN_LIMIT + 2)])
    assert statuses == [401] * LOGIN_LIMIT + [429, 429]


async def test_a_trusted_proxy_says_who_the_client_is(serve: Serve) -> None:
    server = await serve("127.0.0.1")
    # Each client address has its own count: five clients behind the proxy, one try each.
    assert await failed_logins(server, [f"203.0.113.{n}" for n in range(LOGIN_LIMIT + 2)]) == [401] * 5
    # One client trying again and again is still limited, whatever it puts to the left of the proxy's entry.
    tries = [f"198.51.100.{n}, 192.0.2.7" for n in range(LOGIN_LIMIT + 1)]
    assert await failed_logins(server, tries) == [401] * LOGIN_LIMIT + [429]
