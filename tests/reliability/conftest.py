"""Fixtures for the reliability and security tests (docs/http-api.md, "What callers can count on")."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.support.databases import create_postgres_database, drop_postgres_database


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database at the newest migration, for tests that only make sense there."""
    name, url = await create_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(name)


async def push(client: httpx.AsyncClient, headers: dict[str, str], source: str, body: Any) -> httpx.Response:
    return await client.post(f"/api/v1/feeds/{source}/records", json=body, headers=headers)


def error_fields(response: httpx.Response) -> set[str]:
    """The fields an error response names, in its message and its details."""
    error = response.json()["error"]
    fields = {str(d.get("field")) for d in error.get("details", []) if isinstance(d, dict) and d.get("field")}
    return fields
