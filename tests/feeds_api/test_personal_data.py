"""The police caller's phone (bjrdh) appears in no answer and is stored only masked (feeds/README.md §2)."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select

from service.feeds.models import SourceRecord, SourceRecordRevision
from service.ledger.models import LedgerEvent
from service.state import AppState
from tests.conftest import Principals
from tests.feeds_api.conftest import CALLER_PHONE, MASKED_PHONE, XINYUAN, at, police_call, push, push_ok

pytestmark = pytest.mark.usefixtures("registry", "ledger_checked")

OTHER_PHONE = "18600001111"


def free_of_phones(text: str) -> bool:
    digits_only = "".join(c for c in text if c.isdigit() or c == "\n")
    return all(p not in text and p not in digits_only for p in (CALLER_PHONE, OTHER_PHONE))


async def test_the_callers_phone_never_leaves_the_service(
    client: httpx.AsyncClient, principals: Principals, state: AppState
) -> None:
    entity_id, name, address, *_ = XINYUAN
    call = police_call(
        "P-PHONE",
        at(0),
        name=name,
        address=address,
        text=f"报警人（电话 +86 139-1234-5678）称{name}门口私拉电线",
    )
    answers: list[httpx.Response] = []
    first = await push(client, principals.police, "police", call)
    answers.append(first)
    # A revision, a resend, and a rejected call that carries a phone too.
    answers.append(await push(client, principals.police, "police", {**call, "jqzt": "已派警"}))
    answers.append(await push(client, principals.police, "police", {**call, "jqzt": "已派警"}))
    rejected = police_call("P-BAD", at(0), phone=OTHER_PHONE, code="9999", text=f"回拨 {OTHER_PHONE}")
    answers.append(await push(client, principals.police, "police", [rejected, {**rejected, "bjsj": OTHER_PHONE}]))
    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    incident_id = first.json()["results"][0]["incident_id"]

    readers = [
        ("/api/v1/records", principals.operator),
        ("/api/v1/records?linked=true", principals.operator),
        (f"/api/v1/incidents/{incident_id}", principals.operator),
        (f"/api/v1/incidents/{incident_id}", principals.display),
        ("/api/v1/incidents", principals.display),
        (f"/api/v1/entities/{entity_id}", principals.operator),
        ("/api/v1/events?since=0", principals.display),
        ("/api/v1/feeds/police/records/P-PHONE", principals.police),
        ("/api/v1/stats", principals.display),
    ]
    for path, headers in readers:
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
        answers.append(response)
    for response in answers:
        assert free_of_phones(response.text), (str(response.request.url), response.text)
    records = (await client.get("/api/v1/records", headers=principals.operator)).json()["items"]
    assert "139****5678" in records[0]["description"]  # scrubbed where it was written, not dropped

    async with state.db.session() as session:
        payloads = [r.payload for r in (await session.scalars(select(SourceRecord))).all()]
        payloads += [r.payload for r in (await session.scalars(select(SourceRecordRevision))).all()]
        events = [
            json.dumps([e.data, e.incident], ensure_ascii=False)
            for e in (await session.scalars(select(LedgerEvent))).all()
        ]
    assert len(payloads) == 2  # the record and its first revision; rejected calls are not stored
    assert all(p["bjrdh"] == MASKED_PHONE for p in payloads)
    assert all(free_of_phones(json.dumps(p, ensure_ascii=False)) for p in payloads)
    assert events and all(free_of_phones(text) for text in events)


async def test_a_phone_given_as_a_number_is_masked_too(
    client: httpx.AsyncClient, principals: Principals, state: AppState
) -> None:
    call = police_call("P-NUM", at(0), address="临汾路闻喜路路口")
    call["bjrdh"] = int(CALLER_PHONE)
    response = await push(client, principals.police, "police", call)
    assert response.status_code == 200 and free_of_phones(response.text)
    assert response.json()["results"][0]["status"] == "created"
    async with state.db.session() as session:
        record = await session.scalar(select(SourceRecord).where(SourceRecord.source_record_id == "P-NUM"))
    assert record is not None and record.payload["bjrdh"] == MASKED_PHONE
    [without] = await push_ok(client, principals.police, "police", {**call, "jjdbh": "P-NONE", "bjrdh": ""})
    assert without["status"] == "created"
