"""人民情感日志 visit logs through the HTTP push API: every bad field named, visits stored in their own
table and read only by operators and admins with the contact masked, a need marked 急 opening an
incident that carries no household detail (in no answer, ledger event or live message)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from service.ledger.models import LedgerEvent
from service.records.models import SourceRecord
from service.state import AppState
from service.visits.models import Visit
from tests.conftest import Principals, bearer
from tests.feeds.test_personal_data import _follow, _until
from tests.support.servers import serve_in_loop

pytestmark = pytest.mark.usefixtures("registry", "ledger_checked")

HOUSEHOLD, CONTACT, PHONE = "临汾路375弄12号302室", "李桂兰", "13817263544"
SECRETS = (HOUSEHOLD, "12号302", CONTACT, PHONE, "1381726", "7263544")


def visit(number: str, **more: Any) -> dict[str, Any]:
    return {
        "走访编号": number,
        "走访日期": "2026-11-20",
        "居委": "闻喜苑",
        "走访对象类型": "住户",
        "走访对象": HOUSEHOLD,
        "联系人": CONTACT,
        "联系电话": PHONE,
        "走访干部": "周卫东",
        "需求": ["加装电梯", "停车难"],
        "需求说明": f"{CONTACT}说腿脚不便，希望尽快加装电梯，有事打{PHONE}",
        "满意度": "满意",
        **more,
    }


def free_of_household(text: str) -> bool:
    return not any(secret in text for secret in SECRETS)


async def visits_key(client: httpx.AsyncClient, principals: Principals) -> dict[str, str]:
    created = await client.post(
        "/api/v1/keys", json={"role": "department", "source": "visits"}, headers=principals.admin
    )
    assert created.status_code == 201, created.text
    return bearer(created.json()["key"])


async def test_bad_fields_are_named_and_good_visits_stored(client: httpx.AsyncClient, principals: Principals) -> None:
    key = await visits_key(client, principals)
    body = [
        visit("ZF-1"),
        visit("ZF-2", 走访日期="2026-13-01", 需求=["加装电梯", "修自行车", {"项目": "停车难", "急": "是"}]),
        visit("ZF-3", 居委="", 满意度="还行", 走访对象类型="商铺", 联系电话=["1"]),
        {"走访日期": "2026-11-20"},
        visit("ZF-1"),
    ]
    response = await client.post("/api/v1/feeds/visits/records", json=body, headers=key)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created", "rejected", "rejected", "rejected", "rejected"]
    fields = [{e["field"] for e in r["errors"]} for r in results]
    assert fields[1] == {"走访日期", "需求[1]", "需求[2].急"}
    assert fields[2] == {"居委", "满意度", "走访对象类型", "联系电话"}
    assert {"走访编号", "居委", "走访对象", "走访干部"} <= fields[3]
    assert fields[4] == {"走访编号"}  # sent twice in one request
    assert free_of_household(response.text)
    # A resend is unchanged; a change is a revision.
    again = (await client.post("/api/v1/feeds/visits/records", json=visit("ZF-1"), headers=key)).json()
    assert again["results"][0]["status"] == "unchanged"
    changed = (
        await client.post("/api/v1/feeds/visits/records", json=visit("ZF-1", 满意度="不满意"), headers=key)
    ).json()
    assert changed["results"][0]["status"] == "updated"
    # Only the visit log's key pushes visits; the generic file path refuses them.
    for headers in (principals.police, principals.operator, principals.admin, principals.display):
        refused = await client.post("/api/v1/feeds/visits/records", json=visit("ZF-9"), headers=headers)
        assert refused.status_code == 403, refused.text
    upload = await client.post(
        "/api/v1/feeds/visits/files",
        files={"file": ("v.csv", "走访编号,走访日期\nZF-8,2026-11-20\n".encode(), "text/csv")},
        headers=principals.operator,
    )
    assert upload.status_code == 200 and upload.json()["summary"]["rejected"] == 1, upload.text


async def test_only_operators_and_admins_read_visits_and_the_contact_is_masked(
    client: httpx.AsyncClient, principals: Principals, state: AppState
) -> None:
    key = await visits_key(client, principals)
    await client.post(
        "/api/v1/feeds/visits/records", json=[visit("ZF-10"), visit("ZF-11", 居委="岭南一村")], headers=key
    )
    for headers in (principals.operator, principals.admin):
        listed = await client.get("/api/v1/visits", params={"community": "闻喜苑"}, headers=headers)
        assert listed.status_code == 200, listed.text
        [item] = listed.json()["items"]
        assert item["visit_id"] == "ZF-10" and item["visitee"] == HOUSEHOLD
        assert item["contact_name"] == "****" and item["contact_phone"] == "138****3544"
        assert CONTACT not in item["note"] and PHONE not in item["note"]
    for headers in (principals.inspector, principals.display, principals.police, key):
        assert (await client.get("/api/v1/visits", headers=headers)).status_code == 403
    assert (await client.get("/api/v1/visits")).status_code == 401
    bad = await client.get(
        "/api/v1/visits", params={"from": "2026-11-30", "to": "2026-11-01"}, headers=principals.operator
    )
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "query.from"
    async with state.db.session() as session:
        rows = (await session.scalars(select(Visit))).all()
    assert rows and all(CONTACT not in json.dumps([r.contact_name, r.note], ensure_ascii=False) for r in rows)
    assert all(PHONE not in (r.contact_phone or "") + r.note for r in rows)


async def test_an_urgent_need_opens_an_incident_without_household_detail(
    app: FastAPI, client: httpx.AsyncClient, principals: Principals, state: AppState
) -> None:
    key = await visits_key(client, principals)
    answers: list[str] = []
    async with serve_in_loop(app) as address:
        following = await _follow(address, client, principals.display)
        urgent = visit("ZF-20", 需求=[{"项目": "加装电梯", "急": True}, "停车难", {"项目": "噪声扰民", "急": True}])
        response = await client.post("/api/v1/feeds/visits/records", json=[urgent, visit("ZF-21")], headers=key)
        assert response.status_code == 200, response.text
        answers.append(response.text)
        results = response.json()["results"]
        head = (await client.get("/api/v1/events?since=0&limit=1", headers=principals.operator)).json()["head_seq"]
        answers += await _until(following, head)
        await following.close()
    assert results[0]["incident_id"] is not None and results[1]["incident_id"] is None  # 21: no need marked 急
    records = (await client.get("/api/v1/records", params={"source": "visits"}, headers=principals.operator)).json()
    assert {(r["source_record_id"], r["category"]) for r in records["items"]} == {
        ("ZF-20/加装电梯", "other"),
        ("ZF-20/噪声扰民", "noise"),
    }
    answers.append(json.dumps(records, ensure_ascii=False))
    incidents = (await client.get("/api/v1/incidents", params={"source": "visits"}, headers=principals.display)).json()
    assert incidents["total"] == 2 and all("闻喜苑" in i["title"] for i in incidents["items"]), incidents
    for incident in incidents["items"]:
        answers.append((await client.get(f"/api/v1/incidents/{incident['id']}", headers=principals.display)).text)
    answers.append((await client.get("/api/v1/events?since=0", headers=principals.display)).text)
    answers.append((await client.get("/api/v1/exports/records.csv", headers=principals.operator)).text)
    answers.append((await client.get("/api/v1/exports/incidents.csv", headers=principals.operator)).text)
    assert all(free_of_household(text) for text in answers), [t[:300] for t in answers if not free_of_household(t)]
    async with state.db.session() as session:
        stored = [json.dumps(r.payload, ensure_ascii=False) for r in await session.scalars(select(SourceRecord))]
        events = [
            json.dumps([e.data, e.incident], ensure_ascii=False) for e in await session.scalars(select(LedgerEvent))
        ]
    assert stored and events and all(free_of_household(text) for text in stored + events)


async def test_an_urgent_need_at_a_unit_names_it_for_the_matcher(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    """A unit is no household: its name goes with the report, for the matcher. A name alone is not
    enough to link on (the matcher wants an address or a place too), so the report waits in the
    unlinked queue with the unit as its first candidate, for an operator's one click."""
    key = await visits_key(client, principals)
    at_shop = visit("ZF-30", 走访对象类型="单位", 走访对象="小罗棋牌室", 需求=[{"项目": "消防安全", "急": True}])
    [result] = (await client.post("/api/v1/feeds/visits/records", json=at_shop, headers=key)).json()["results"]
    assert result["incident_id"] is not None
    queue = await client.get(
        "/api/v1/records", params={"source": "visits", "linked": "false"}, headers=principals.operator
    )
    [record] = queue.json()["items"]
    assert (record["name"], record["title"], record["category"]) == (
        "小罗棋牌室",
        "走访急需 · 消防安全 · 小罗棋牌室",
        "fire",
    )
    assert record["candidates"] and record["candidates"][0]["entity_id"] == "LF-000014", record["candidates"]
    assert CONTACT not in queue.text and PHONE not in queue.text and HOUSEHOLD not in queue.text
