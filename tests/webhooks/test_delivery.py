"""Webhook delivery end to end: a local receiver gets signed, de-duplicable status changes after commit,
survives being down, and a department hears only about its own records."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.state import AppState
from service.webhooks import signing
from tests.conftest import Principals
from tests.support.incidents import XINYUAN, change_status, city_case, get, police_call, push
from tests.webhooks.receiver import Received, Receiver
from tests.webhooks.support import API, delivery_log, eventually, put_webhook

DOCS = Path(__file__).resolve().parents[2] / "docs" / "workflow.md"
PHONE = "13955556666"
CITY_SECRET = "city-secret-chosen-by-the-admin"


def documented_recipe() -> dict[str, Any]:
    """The verification recipe that docs/workflow.md gives the departments, ready to call."""
    text = DOCS.read_text(encoding="utf-8")
    (code,) = [block for block in re.findall(r"```python\n(.*?)```", text, re.S) if "def verify_delivery" in block]
    namespace: dict[str, Any] = {"SECRET": None}
    exec(compile(code, str(DOCS), "exec"), namespace)
    return namespace


def sent_to(receiver: Receiver, path: str) -> list[Received]:
    return [r for r in receiver.requests() if r.path == path]


async def test_departments_receive_signed_status_changes(
    client: httpx.AsyncClient, principals: Principals, registry: None, state: AppState, receiver: Receiver
) -> None:
    admin, op = principals.admin, principals.operator
    police_secret = (await put_webhook(client, admin, "police", receiver.url("/police")))["secret"]
    assert police_secret and police_secret.startswith("whsec_")
    assert (await put_webhook(client, admin, "city", receiver.url("/city"), CITY_SECRET))["secret"] is None
    await put_webhook(client, admin, "market", receiver.url("/market"))  # no record in it: hears nothing

    (call,) = await push(client, principals.police, "police", police_call(XINYUAN, "noise", phone=PHONE))
    (case,) = await push(client, principals.city, "city", city_case(XINYUAN))
    incident_id = call["incident_id"]
    assert case["incident_id"] == incident_id
    assert receiver.requests() == []  # reports arriving are not status changes

    await client.post(f"{API}/incidents/{incident_id}/assign", json={"assignee": "insp"}, headers=op)
    version = (await get(client, op, f"/incidents/{incident_id}"))["version"]
    for target, note in (("in_progress", None), ("resolved", None), ("closed", "已整改")):
        response = await change_status(client, principals.inspector if target != "closed" else op,
                                       incident_id, target, version, note)  # fmt: skip
        assert response.status_code == 200, response.text
        version = response.json()["version"]

    # Four changes, to each of the two departments — woken by the commits, well before the 30 s poll.
    async def all_arrived() -> bool:
        return len(sent_to(receiver, "/police")) >= 4 and len(sent_to(receiver, "/city")) >= 4

    started = time.monotonic()
    await eventually(all_arrived, timeout_s=5, what="eight deliveries")
    assert time.monotonic() - started < 5
    assert sent_to(receiver, "/market") == []

    recipe = documented_recipe()
    for path, secret, own_id, other_id in (
        ("/police", police_secret, call["source_record_id"], case["source_record_id"]),
        ("/city", CITY_SECRET, case["source_record_id"], call["source_record_id"]),
    ):
        deliveries = sent_to(receiver, path)
        for delivery in deliveries:
            header = delivery.headers["x-cb-signature"]
            assert signing.verify(secret.encode(), header, delivery.body, now=time.time())
            assert recipe["verify_delivery"](secret, header, delivery.body)
            assert not signing.verify(b"some-other-secret", header, delivery.body, now=time.time())
            assert not recipe["verify_delivery"](secret, header, delivery.body + b" ")
            body = json.loads(delivery.body)
            assert delivery.headers["x-cb-delivery-id"] == body["delivery_id"] == f"{body['seq']}-{body['source']}"
            assert body["source_record_ids"] == [own_id]
            assert body["incident"]["id"] == incident_id
            # Nothing of the other department's and nothing personal.
            assert other_id not in delivery.body.decode() and PHONE not in delivery.body.decode()
            assert PHONE[-4:] not in delivery.body.decode()
        by_seq = sorted((json.loads(d.body) for d in deliveries), key=lambda b: b["seq"])
        assert [(b["event"], b["incident"]["status"]) for b in by_seq] == [
            ("assigned", "dispatched"),
            ("status_changed", "in_progress"),
            ("status_changed", "resolved"),
            ("status_changed", "closed"),
        ]
        assert by_seq[-1]["incident"]["resolution_note"] == "已整改"
        assert len({d.headers["x-cb-delivery-id"] for d in deliveries}) == len(deliveries) == 4

    # The receiver may have answered before the worker recorded the outcome.
    async def all_recorded() -> bool:
        return all(d["status"] == "delivered" for d in await delivery_log(client, admin))

    await eventually(all_recorded, timeout_s=5, what="eight deliveries recorded")
    log = await delivery_log(client, admin)
    assert len(log) == 8
    assert {(d["status"], d["attempts"], d["last_status_code"], len(d["history"])) for d in log} == {
        ("delivered", 1, 200, 1)
    }
    assert state.metrics.registry.get_sample_value("cb_webhook_deliveries_total", {"outcome": "delivered"}) == 8
    assert (await get(client, admin, "/ledger/verify"))["ok"]


@pytest.mark.settings(webhook_max_attempts=50)
async def test_a_receiver_down_then_up_gets_everything_once_deduplicated(
    client: httpx.AsyncClient, principals: Principals, registry: None, state: AppState
) -> None:
    admin, op = principals.admin, principals.operator
    receiver = Receiver()  # not listening yet: every attempt is refused
    secret = (await put_webhook(client, admin, "police", receiver.url()))["secret"]
    (call,) = await push(client, principals.police, "police", police_call(XINYUAN, "fire"))
    incident_id = call["incident_id"]
    await client.post(f"{API}/incidents/{incident_id}/assign", json={"assignee": "insp"}, headers=op)

    async def failed_a_few_times() -> bool:
        (entry,) = await delivery_log(client, admin)
        return bool(entry["attempts"] >= 3)

    await eventually(failed_a_few_times, what="three refused attempts")
    (entry,) = await delivery_log(client, admin)
    assert entry["status"] == "pending" and entry["next_attempt_at"] is not None
    assert entry["last_status_code"] is None and entry["last_error"].startswith("ConnectError")

    # Back up, but the first answer is lost (503 after the receiver has processed it): the retry
    # brings the same delivery id again, and the receiver keeps one.
    answers = iter([503])
    receiver.answer = lambda _request: next(answers, 200)
    receiver.start()
    try:
        version = (await get(client, op, f"/incidents/{incident_id}"))["version"]
        response = await change_status(client, principals.inspector, incident_id, "in_progress", version)
        assert response.status_code == 200

        async def all_delivered() -> bool:
            entries = await delivery_log(client, admin)
            return len(entries) == 2 and all(e["status"] == "delivered" for e in entries)

        await eventually(all_delivered, what="both deliveries")
    finally:
        receiver.stop()

    received = receiver.requests()
    for request in received:
        assert signing.verify(secret.encode(), request.headers["x-cb-signature"], request.body, now=time.time())
    arrivals = Counter(r.headers["x-cb-delivery-id"] for r in received)
    assert len(received) == 3 and sorted(arrivals.values()) == [1, 2]  # one came twice
    kept = {r.headers["x-cb-delivery-id"]: json.loads(r.body) for r in received}  # de-duplicated by id
    assert sorted((b["event"], b["incident"]["status"]) for b in kept.values()) == [
        ("assigned", "dispatched"),
        ("status_changed", "in_progress"),
    ]

    # The log tells the story: refused, refused, …, 503, 200 — with growing but bounded pauses.
    entries = {e["event"]: e for e in await delivery_log(client, admin)}
    history = entries["assigned"]["history"]
    assert len(history) >= 3 and entries["assigned"]["attempts"] == len(history)
    assert history[-1]["status_code"] == 200 and history[-1]["error"] is None
    assert all(h["status_code"] is None and h["error"].startswith("ConnectError") for h in history[:3])
    answered = [h for h in (*history, *entries["status_changed"]["history"]) if h["status_code"] == 503]
    assert len(answered) == 1 and answered[0]["error"].startswith("HTTP 503")
    retries = state.metrics.registry.get_sample_value("cb_webhook_deliveries_total", {"outcome": "retry"})
    assert retries is not None and retries >= 3
    assert (await get(client, admin, "/ledger/verify"))["ok"]
