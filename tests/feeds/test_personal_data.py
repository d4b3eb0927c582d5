"""Personal data: the police caller's phone (bjrdh) appears in no answer and is stored only masked
(docs/adapters.md, "The caller's phone"); a phone number written in any spelling in any department's free text is masked
before it is stored, so no role's answer, export, log line, live message, ledger event or table row
holds it (docs/adapters.md, "Phone numbers in any record"). CB_PERSONAL_EXAMPLES searches longer."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import logging
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect

from service.ledger.models import LedgerEvent
from service.logs import JsonFormatter
from service.records.models import SourceRecord, SourceRecordRevision
from service.state import AppState
from service.tables import Base
from tests.conftest import Principals
from tests.support.feeds import (
    CALLER_PHONE,
    MASKED_PHONE,
    XINYUAN,
    at,
    city_case,
    market_row,
    police_call,
    push,
    push_ok,
)
from tests.support.phones import PhoneFinder, SpelledPhone, texts_with_phones
from tests.support.servers import serve_in_loop

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


# --- numbers in any spelling, in any department's free text ----------------------------------------

PERSONAL_TEXTS = st.tuples(*[texts_with_phones(max_phones=2)] * 10)
_example_numbers = itertools.count(1)


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The JSON lines production would write (service/logs.py configure_logging), at DEBUG."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@settings(
    max_examples=int(os.environ.get("CB_PERSONAL_EXAMPLES", "3")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(texts=PERSONAL_TEXTS)
async def test_no_phone_number_in_any_spelling_survives_anywhere(
    app: FastAPI,
    client: httpx.AsyncClient,
    principals: Principals,
    state: AppState,
    json_log: io.StringIO,
    texts: tuple[tuple[str, list[SpelledPhone]], ...],
) -> None:
    """Numbers written every which way in police, city, market and 12345 free text and addresses, the
    12345 caller's and a visited household's number, and a visit's free text and household: none can be
    read back from any role's answers, the exports, the logs, the live stream, the ledger or the database."""
    (call_text, _), (call_address, _), (case_text, _), (case_address, _), (problem, _), (premises, _) = texts[:6]
    (order_text, _), (order_address, _), (visit_note, _), (household, _) = texts[6:]
    phones = [phone for _, spelled in texts for phone in spelled]
    n = next(_example_numbers)
    _, name, _, lat, lng = XINYUAN
    keys: dict[str, dict[str, str]] = {}
    for source in ("hotline", "visits"):
        body = {"role": "department", "source": source}
        made = await client.post("/api/v1/keys", json=body, headers=principals.admin)
        assert made.status_code == 201, made.text
        keys[source] = {"Authorization": f"Bearer {made.json()['key']}"}
    order = {
        "工单编号": f"H-PII-{n}",
        "来电时间": at(n).strftime("%Y-%m-%d %H:%M:%S"),
        "诉求内容": order_text,
        "诉求地址": order_address,
        "来电人": "王秀英",
        "来电号码": phones[-1].written,
    }
    visit = {
        "走访编号": f"V-PII-{n}",
        "走访日期": at(n).date().isoformat(),
        "居委": "闻喜苑",
        "走访对象": household[:300],
        "联系人": "李桂兰",
        "联系电话": phones[-2].written,
        "走访干部": "周卫东",
        "需求": [{"项目": "加装电梯", "急": True}],
        "需求说明": visit_note,
    }
    pushes = [
        ("police", principals.police, police_call(f"P-PII-{n}", at(n), name=name, address=call_address,
                                                   text=call_text, phone=phones[0].written)),
        ("city", principals.city, city_case(f"C-PII-{n}", at(n), shop=name, address=case_address,
                                           wgs84=(lat, lng)) | {"description": case_text}),
        ("market", principals.market, market_row(f"M-PII-{n}", at(n).date(), name=name, address=premises,
                                                 problem=problem)),
        ("hotline", keys["hotline"], order),
        ("visits", keys["visits"], visit),
    ]  # fmt: skip

    answers: list[tuple[str, str]] = []
    incidents: set[int] = set()
    async with serve_in_loop(app) as address:
        following = await _follow(address, client, principals.display)
        for source, headers, record in pushes:
            response = await push(client, headers, source, record)
            assert response.status_code == 200, response.text
            [result] = response.json()["results"]
            assert result["status"] == "created", result
            assert result["incident_id"] is not None, result  # the visit's need is marked 急
            incidents.add(result["incident_id"])
            answers.append((f"push {source}", response.text))
        for incident_id in incidents:
            assigned = await client.post(
                f"/api/v1/incidents/{incident_id}/assign", json={"assignee": "insp"}, headers=principals.operator
            )
            assert assigned.status_code == 200, assigned.text
        head = (await client.get("/api/v1/events?since=0&limit=1", headers=principals.operator)).json()["head_seq"]
        answers += [("stream", message) for message in await _until(following, head)]
        async with await _follow(address, client, principals.operator) as fresh:  # a snapshot with them
            answers += [("snapshot", message) for message in await _until(fresh, head)]
        await following.close()

    reads = _reads(app, incidents, [(source, record) for source, _, record in pushes], XINYUAN[0])
    ok: set[tuple[str, str]] = set()
    readers = {role: getattr(principals, role) for role in
               ("admin", "operator", "inspector", "police", "market", "city", "display")} | keys  # fmt: skip
    for role, headers in readers.items():
        for path in reads:
            response = await client.get(path, headers=headers)
            assert response.status_code < 500, (role, path, response.text)
            if response.status_code == 200:
                ok.add((role, path.split("?")[0]))
                answers.append((f"{role} GET {path}", response.text))
    # Not vacuous: each kind of reader did read what holds the numbers.
    some_incident = f"/api/v1/incidents/{min(incidents)}"
    for expected in [
        ("operator", "/api/v1/records"), ("operator", "/api/v1/exports/records.csv"),
        ("operator", "/api/v1/exports/incidents.csv"), ("inspector", some_incident), ("display", "/api/v1/events"),
        ("display", "/api/v1/incidents"), ("police", f"/api/v1/feeds/police/records/P-PII-{n}"),
        ("admin", f"/api/v1/entities/{XINYUAN[0]}"), ("hotline", f"/api/v1/feeds/hotline/records/H-PII-{n}"),
        ("operator", "/api/v1/visits"), ("admin", "/api/v1/visits"), ("display", "/api/v1/painpoints"),
    ]:  # fmt: skip
        assert expected in ok, expected

    async with state.db.session() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            answers += [
                (f"table {table.name}", json.dumps([str(value) for value in row], ensure_ascii=False)) for row in rows
            ]
    answers += [("log", line) for line in json_log.getvalue().splitlines()]

    finder = PhoneFinder(phones)
    for where, text in answers:
        shown = _decoded(text)
        assert not finder.found(shown), (where, sorted({phone.written for phone in finder.found(shown)}))
    # Masked where it was written, not dropped: the operator still sees that a number was given.
    records = (await client.get("/api/v1/records", params={"limit": 200}, headers=principals.operator)).text
    assert "****" in _decoded(records)


async def _follow(address: str, client: httpx.AsyncClient, headers: dict[str, str]) -> ClientConnection:
    ticket = (await client.post("/api/v1/auth/ws-ticket", headers=headers)).json()["ticket"]
    return await connect(f"ws://{address}/ws/live?ticket={ticket}")


async def _until(ws: ClientConnection, head: int) -> list[str]:
    """Every message of the stream until it has shown the ledger up to ``head``."""
    messages: list[str] = []
    seen = -1
    while seen < head:
        message = str(await asyncio.wait_for(ws.recv(), timeout=10))
        messages.append(message)
        seen = max(seen, int(json.loads(message).get("seq", -1)))
    return messages


def _reads(app: FastAPI, incidents: set[int], records: list[tuple[str, dict[str, Any]]], entity: str) -> list[str]:
    """Every GET route of the API with its parameters filled in: a new read is searched as well."""
    filled: list[str] = []
    record_ids = {"police": "jjdbh", "city": "taskId", "market": "记录编号", "hotline": "工单编号"}
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        if "GET" not in (route.methods or ()) or not path.startswith("/api/v1"):
            continue
        if "{attachment_id}" in path:
            continue  # photo bytes, uploaded by staff
        if "{source_record_id:path}" in path:
            filled += [
                path.replace(":path}", "}").format(source=source, source_record_id=record[record_ids[source]])
                for source, record in records
                if source in record_ids  # a visit is no department record: GET /visits reads it
            ]
        elif "{incident_id}" in path:
            filled += [path.format(incident_id=incident_id) for incident_id in sorted(incidents)]
        elif "{entity_id}" in path:
            filled.append(path.format(entity_id=entity))
        elif path == "/api/v1/feeds/definitions/{source}/versions":
            filled += [path.format(source=source) for source in ("fire", "health")]  # 404: none stored
        else:
            assert "{" not in path, f"a read this test does not know how to fill: {path}"
            filled.append(path + ("?limit=200" if path.endswith(("/records", "/incidents")) else ""))
    return filled


def _decoded(text: str) -> str:
    """JSON text with its \\u escapes read back (full-width digits may be escaped); other text as is."""
    try:
        return json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        return text
