"""Webhooks call public addresses only: inward targets are refused when set and again at connect time,
unless CB_WEBHOOK_ALLOWED_HOSTS names them; a failed delivery keeps the status, never the receiver's body."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from service.kit.clock import utcnow
from service.state import AppState
from service.webhooks.delivery import DeliveryPolicy, WebhookDispatcher
from service.webhooks.models import DeliveryAttempt, OutboxMessage, Webhook
from service.webhooks.targets import TargetPolicy, check_url, refusal
from tests.conftest import Principals
from tests.support.incidents import XINYUAN, police_call, push
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import API, delivery_log, put_webhook

INWARD_URLS = [
    "http://127.0.0.1:8000/api/v1/users",  # the service's own port
    "http://localhost/",
    "http://[::1]:8000/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://127.1/",
    "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0:6379/",
    "http://10.1.2.3:8080/hooks",
    "http://192.168.1.10/",
    "http://172.16.0.5/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.100.100.200/latest/meta-data/",
    "http://[fe80::1]/",
    "http://[fd00:ec2::254]/",
    "http://224.0.0.1/",
]


@pytest.mark.settings(webhook_allowed_hosts="")
@pytest.mark.parametrize("url", INWARD_URLS)
async def test_an_inward_webhook_is_refused_naming_the_field(
    client: httpx.AsyncClient, principals: Principals, url: str
) -> None:
    response = await client.put(f"{API}/webhooks/police", json={"url": url}, headers=principals.admin)
    assert response.status_code == 422, response.text
    (detail,) = response.json()["error"]["details"]
    assert detail["field"] == "url"
    assert "address" in detail["reason"] and "CB_WEBHOOK_ALLOWED_HOSTS" in detail["reason"]
    assert (await client.get(f"{API}/webhooks", headers=principals.admin)).json()["items"] == []


async def test_the_reason_names_what_the_name_resolved_to() -> None:
    reason = await check_url("http://localhost:8000/x", TargetPolicy())
    assert reason is not None and "localhost resolves to" in reason and "loopback" in reason
    assert await check_url("http://localhost:8000/x", TargetPolicy.from_setting("localhost")) is None
    assert await check_url("http://localhost:8000/x", TargetPolicy.from_setting("localhost:8000")) is None
    assert await check_url("http://localhost:8001/x", TargetPolicy.from_setting("localhost:8000")) is not None
    # A public address passes; a name that does not resolve yet passes too (it is checked at connect).
    assert refusal(ipaddress.ip_address("93.184.215.14")) is None
    assert await check_url("http://no-such-host.invalid/", TargetPolicy()) is None


@pytest.fixture
async def worker(state: AppState) -> AsyncIterator[WebhookDispatcher]:
    dispatcher = WebhookDispatcher(state.db, DeliveryPolicy.from_settings(state.settings), state.metrics)
    yield dispatcher
    await dispatcher.close()


@pytest.mark.settings(webhook_poll_interval_s=0, webhook_allowed_hosts="")
async def test_a_target_that_turns_inward_later_is_refused_at_connect(
    client: httpx.AsyncClient,
    principals: Principals,
    registry: None,
    state: AppState,
    receiver: Receiver,
    worker: WebhookDispatcher,
) -> None:
    # Stored as if its name had resolved publicly when it was set, and points at loopback now
    # (DNS rebinding): the connect-time check refuses it and the receiver hears nothing.
    async with state.db.transaction() as uow:
        uow.session.add(
            Webhook(
                source="police",
                url=f"http://localhost:{receiver.port}/hook",
                secret="s" * 20,
                active=True,
                updated_at=utcnow(),
            )
        )
    (call,) = await push(client, principals.police, "police", police_call(XINYUAN, "noise"))
    await client.post(
        f"{API}/incidents/{call['incident_id']}/assign", json={"assignee": "insp"}, headers=principals.operator
    )
    assert await worker.deliver_due() >= 1
    entries = await delivery_log(client, principals.admin)
    assert entries and receiver.requests() == []
    for entry in entries:
        assert entry["last_status_code"] is None
        assert "refused: localhost resolves to" in entry["last_error"] and "loopback" in entry["last_error"]


@pytest.mark.settings(webhook_poll_interval_s=0)
async def test_a_failed_delivery_keeps_the_status_and_never_the_body(
    client: httpx.AsyncClient,
    principals: Principals,
    registry: None,
    state: AppState,
    receiver: Receiver,
    worker: WebhookDispatcher,
) -> None:
    receiver.answer = lambda _request: 403
    receiver.reply = b'{"users": ["root:x:0:0"], "token": "internal-secret"}'
    await put_webhook(client, principals.admin, "police", receiver.url())  # 127.0.0.1 is allowed in these tests
    (call,) = await push(client, principals.police, "police", police_call(XINYUAN, "noise"))
    await client.post(
        f"{API}/incidents/{call['incident_id']}/assign", json={"assignee": "insp"}, headers=principals.operator
    )
    assert await worker.deliver_due() == 1
    (entry,) = await delivery_log(client, principals.admin)
    assert (entry["last_status_code"], entry["last_error"]) == (403, "HTTP 403 Forbidden")
    assert entry["history"][0]["error"] == "HTTP 403 Forbidden"
    async with state.db.session() as session:
        stored = list((await session.scalars(select(OutboxMessage.last_error))).all())
        stored += (await session.scalars(select(DeliveryAttempt.error))).all()
    assert stored and not any("internal-secret" in (text or "") for text in stored)
