"""Admins set, list and remove each department's webhook; the secret is shown once and never again."""

from __future__ import annotations

import httpx

from tests.conftest import Principals
from tests.webhooks.support import API


async def test_admin_manages_webhooks(client: httpx.AsyncClient, principals: Principals) -> None:
    admin = principals.admin
    for who in (principals.operator, principals.police, principals.display, principals.inspector):
        assert (await client.get(f"{API}/webhooks", headers=who)).status_code == 403
        assert (await client.get(f"{API}/webhooks/deliveries", headers=who)).status_code == 403
        response = await client.put(f"{API}/webhooks/police", json={"url": "https://example.org/x"}, headers=who)
        assert response.status_code == 403
        assert (await client.delete(f"{API}/webhooks/police", headers=who)).status_code == 403
    assert (await client.get(f"{API}/webhooks")).status_code == 401

    response = await client.put(f"{API}/webhooks/police", json={"url": "https://police.example.org/cb"}, headers=admin)
    assert response.status_code == 200
    created = response.json()
    generated = created["secret"]
    assert generated.startswith("whsec_") and len(generated) >= 40
    assert (created["source"], created["url"], created["active"]) == ("police", "https://police.example.org/cb", True)

    chosen = "market-secret-0123456789"
    body = {"url": "http://market.example.org:8080/hooks/cb", "secret": chosen}
    response = await client.put(f"{API}/webhooks/market", json=body, headers=admin)
    assert response.status_code == 200 and response.json()["secret"] is None  # the admin knows it already

    # Replacing the URL keeps one webhook per source; a new secret is generated again.
    body = {"url": "https://police.example.org/v2"}
    replaced = (await client.put(f"{API}/webhooks/police", json=body, headers=admin)).json()
    assert replaced["secret"] not in (None, generated)

    response = await client.get(f"{API}/webhooks", headers=admin)
    assert [(w["source"], w["url"], w["pending"], w["failed"]) for w in response.json()["items"]] == [
        ("market", "http://market.example.org:8080/hooks/cb", 0, 0),
        ("police", "https://police.example.org/v2", 0, 0),
    ]
    for secret in (generated, replaced["secret"], chosen):
        assert secret not in response.text
    assert "secret" not in response.text

    bad_bodies = [
        {"url": "ftp://example.org/x"},
        {"url": "not a url"},
        {"url": "https://example.org/x", "secret": "short"},
        {"url": "https://example.org/" + "x" * 600},
        {},
    ]
    for bad in bad_bodies:
        assert (await client.put(f"{API}/webhooks/city", json=bad, headers=admin)).status_code == 422, bad
    response = await client.put(f"{API}/webhooks/fire_brigade", json={"url": "https://x.example"}, headers=admin)
    assert response.status_code == 404
    assert (
        await client.put(f"{API}/webhooks/Bad-Name", json={"url": "https://x.example"}, headers=admin)
    ).status_code == 422

    assert (await client.delete(f"{API}/webhooks/market", headers=admin)).status_code == 204
    assert (await client.delete(f"{API}/webhooks/market", headers=admin)).status_code == 404
    assert [w["source"] for w in (await client.get(f"{API}/webhooks", headers=admin)).json()["items"]] == ["police"]
    assert (await client.get(f"{API}/webhooks/deliveries", headers=admin)).json() == {"items": [], "total": 0}
    for bad_query in ({"status": "lost"}, {"limit": 0}, {"offset": -1}):
        response = await client.get(f"{API}/webhooks/deliveries", params=bad_query, headers=admin)
        assert response.status_code == 422
