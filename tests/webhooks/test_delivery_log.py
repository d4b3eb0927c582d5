"""Giving up, the delivery log, an admin's retry, removing a webhook — with the worker driven by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest

from service.kit.clock import utcnow
from service.state import AppState
from service.webhooks.delivery import DeliveryPolicy, WebhookDispatcher
from service.webhooks.service import WEBHOOK_REMOVED
from tests.conftest import Principals
from tests.support.incidents import XINYUAN, change_status, get, police_call, push
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import API, delivery_log, put_webhook


@pytest.fixture
async def dispatcher(state: AppState) -> AsyncIterator[WebhookDispatcher]:
    # No background worker: this test drives delivery itself.
    assert "webhook-delivery" not in {task.get_name() for task in state.tasks}
    worker = WebhookDispatcher(state.db, DeliveryPolicy.from_settings(state.settings), state.metrics)
    yield worker
    await worker.close()


@pytest.mark.settings(webhook_poll_interval_s=0, webhook_max_attempts=2)
async def test_give_up_then_retry_by_an_admin(
    client: httpx.AsyncClient,
    principals: Principals,
    registry: None,
    receiver: Receiver,
    dispatcher: WebhookDispatcher,
) -> None:
    admin, op = principals.admin, principals.operator
    receiver.answer = lambda _request: 500
    await put_webhook(client, admin, "police", receiver.url())
    (call,) = await push(client, principals.police, "police", police_call(XINYUAN, "noise"))
    incident_id = call["incident_id"]
    await client.post(f"{API}/incidents/{incident_id}/assign", json={"assignee": "insp"}, headers=op)

    assert await dispatcher.deliver_due() == 1
    (entry,) = await delivery_log(client, admin)
    assert (entry["status"], entry["attempts"], entry["last_status_code"]) == ("pending", 1, 500)
    assert entry["last_error"] == "HTTP 500 Internal Server Error"  # the status only, never the body
    # Backoff with full jitter: the retry is due within base · 2⁰ of the failure (0.05 s here).
    wait = datetime.fromisoformat(entry["next_attempt_at"]) - datetime.fromisoformat(entry["history"][0]["at"])
    assert timedelta(0) <= wait <= timedelta(seconds=0.05)
    assert await dispatcher.deliver_due(now=utcnow() + timedelta(seconds=1)) == 1
    (entry,) = await delivery_log(client, admin)
    assert (entry["status"], entry["attempts"], entry["next_attempt_at"]) == ("failed", 2, None)
    assert [h["status_code"] for h in entry["history"]] == [500, 500]
    assert await dispatcher.deliver_due(now=utcnow() + timedelta(days=1)) == 0  # given up for good
    (hook,) = (await get(client, admin, "/webhooks"))["items"]
    assert (hook["pending"], hook["failed"]) == (0, 1)
    assert [e["id"] for e in await delivery_log(client, admin, status="failed", source="police")] == [entry["id"]]
    assert await delivery_log(client, admin, source="city") == []

    # Fixed on their side; an admin sends it again, with a fresh round of attempts.
    receiver.answer = lambda _request: 204
    response = await client.post(f"{API}/webhooks/deliveries/{entry['id']}/retry", headers=admin)
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["attempts"]) == ("pending", 0)
    assert (await client.post(f"{API}/webhooks/deliveries/{entry['id']}/retry", headers=admin)).status_code == 409
    assert (await client.post(f"{API}/webhooks/deliveries/999/retry", headers=admin)).status_code == 404
    assert (await client.post(f"{API}/webhooks/deliveries/{2**40}/retry", headers=admin)).status_code == 422
    assert (await client.post(f"{API}/webhooks/deliveries/{entry['id']}/retry", headers=op)).status_code == 403
    assert await dispatcher.deliver_due() == 1
    (entry,) = await delivery_log(client, admin)
    assert (entry["status"], entry["attempts"], entry["last_status_code"]) == ("delivered", 1, 204)
    assert [h["status_code"] for h in entry["history"]] == [500, 500, 204]
    assert entry["delivered_at"] is not None and entry["last_error"] is None
    assert len(receiver.requests()) == 3

    # Removing the webhook abandons what was still to be sent; a retry then needs a webhook first.
    version = (await get(client, op, f"/incidents/{incident_id}"))["version"]
    assert (await change_status(client, op, incident_id, "in_progress", version)).status_code == 200
    assert (await client.delete(f"{API}/webhooks/police", headers=admin)).status_code == 204
    abandoned = (await delivery_log(client, admin, status="failed"))[0]
    assert (abandoned["event"], abandoned["last_error"], abandoned["history"]) == (
        "status_changed",
        WEBHOOK_REMOVED,
        [],
    )
    response = await client.post(f"{API}/webhooks/deliveries/{abandoned['id']}/retry", headers=admin)
    assert response.status_code == 422
    assert await dispatcher.deliver_due(now=utcnow() + timedelta(days=1)) == 0
    assert len(receiver.requests()) == 3

    # A webhook set again takes the retried delivery.
    await put_webhook(client, admin, "police", receiver.url())
    assert (await client.post(f"{API}/webhooks/deliveries/{abandoned['id']}/retry", headers=admin)).status_code == 200
    assert await dispatcher.deliver_due() == 1
    assert [e["status"] for e in await delivery_log(client, admin)] == ["delivered", "delivered"]
