"""Helpers for webhook tests: configuring a webhook, reading the delivery log, waiting for something to happen."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

API = "/api/v1"


async def put_webhook(
    client: httpx.AsyncClient, admin: dict[str, str], source: str, url: str, secret: str | None = None
) -> dict[str, Any]:
    body = {"url": url} if secret is None else {"url": url, "secret": secret}
    response = await client.put(f"{API}/webhooks/{source}", json=body, headers=admin)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def delivery_log(client: httpx.AsyncClient, admin: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/webhooks/deliveries", params=params, headers=admin)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 10.0, what: str = "") -> None:
    """Wait until ``check()`` is true, looking every 20 ms."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.02)
