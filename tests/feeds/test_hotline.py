"""12345 hotline work orders through the HTTP push API (service/feeds/definitions/shipped/hotline.toml): the
theme and category come from the complaint classifier, the address text is linked by the matcher
or left in the unlinked queue, 回访满意度 arrives as a revision, and the caller's name and number
are in no answer, ledger event, live message or stored payload."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from service.ledger.models import LedgerEvent
from service.records.models import SourceRecord, SourceRecordRevision
from service.state import AppState
from tests.conftest import Principals, bearer
from tests.feeds.test_personal_data import _follow, _until
from tests.support.feeds import push_ok
from tests.support.servers import serve_in_loop

pytestmark = pytest.mark.usefixtures("registry", "ledger_checked")

CALLER, CALLER_PHONE = "王秀英", "13916605827"
SECRETS = (CALLER, CALLER_PHONE, "1391660", "6605827")


def work_order(number: str, text: str, address: str, **more: Any) -> dict[str, Any]:
    return {
        "工单编号": number,
        "来电时间": "2026-11-20 22:10:00",
        "诉求内容": text,
        "诉求地址": address,
        "来电人": CALLER,
        "来电号码": CALLER_PHONE,
        "办理时限": "2026-11-25 17:00:00",
        **more,
    }


ORDERS = [
    work_order(
        "GD-001",
        f"我是{CALLER}，小朱便利店晚上门口卸货噪音特别大，吵得睡不着觉，电话{CALLER_PHONE}",
        "临汾路46号",
    ),
    work_order(
        "GD-002", "市民来电称楼下烧烤店油烟直排，熏得窗户都不敢开，要求相关部门处理", "临汾路375弄小区门口那家烧烤店"
    ),
    work_order("GD-003", "小区门口车子乱停乱放，进出很不方便", "阳曲路760弄", 诉求类型="交通"),
]


def free_of_caller(text: str) -> bool:
    return not any(secret in text for secret in SECRETS)


async def test_hotline_orders_are_classified_linked_and_keep_no_caller(
    app: FastAPI, client: httpx.AsyncClient, principals: Principals, state: AppState
) -> None:
    created = await client.post(
        "/api/v1/keys", json={"role": "department", "source": "hotline"}, headers=principals.admin
    )
    assert created.status_code == 201, created.text
    hotline = bearer(created.json()["key"])
    answers: list[str] = []

    async with serve_in_loop(app) as address:
        following = await _follow(address, client, principals.display)
        response = await client.post("/api/v1/feeds/hotline/records", json=ORDERS, headers=hotline)
        assert response.status_code == 200, response.text
        answers.append(response.text)
        results = {r["source_record_id"]: r for r in response.json()["results"]}
        assert all(r["status"] == "created" for r in results.values()), results
        # 回访满意度 comes later: a revision of the same order.
        [revised] = await push_ok(client, hotline, "hotline", {**ORDERS[0], "回访满意度": "满意"})
        assert revised["status"] == "updated", revised
        head = (await client.get("/api/v1/events?since=0&limit=1", headers=principals.operator)).json()["head_seq"]
        answers += await _until(following, head)
        await following.close()

    # Linked by the address to the register's 小朱便利店 (LF-000002, 临汾路46号); the vague one is not.
    assert results["GD-001"]["entity_id"] == "LF-000002"
    assert results["GD-002"]["entity_id"] is None
    records = (await client.get("/api/v1/records", params={"source": "hotline"}, headers=principals.operator)).json()
    answers.append(json.dumps(records, ensure_ascii=False))
    by_id = {r["source_record_id"]: r for r in records["items"]}
    assert {key: (r["category"], r["title"].split(" · ")[0]) for key, r in by_id.items()} == {
        "GD-001": ("noise", "噪声扰民"),
        "GD-002": ("appearance", "油烟"),
        "GD-003": ("traffic", "停车"),
    }
    # The theme is stored with the record (source_records.theme) and shown with it.
    assert {key: r["theme"] for key, r in by_id.items()} == {
        "GD-001": "noise",
        "GD-002": "fumes",
        "GD-003": "parking",
    }
    exported = await client.get(
        "/api/v1/exports/records.csv", params={"source": "hotline"}, headers=principals.operator
    )
    answers.append(exported.text)
    rows = csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff")))
    assert {row["source_record_id"]: row["theme"] for row in rows} == {
        "GD-001": "noise",
        "GD-002": "fumes",
        "GD-003": "parking",
    }
    assert by_id["GD-001"]["revision"] == 2
    unlinked = (await client.get("/api/v1/records", params={"linked": "false"}, headers=principals.operator)).json()
    waiting = {r["source_record_id"]: r for r in unlinked["items"]}
    # No 烧烤店 on 临汾路: GD-002 waits in the operators' queue with the nearest barbecues ranked.
    candidates = waiting["GD-002"]["candidates"]
    assert candidates and all("烧烤" in c["name"] for c in candidates), candidates
    assert [c["score"] for c in candidates] == sorted((c["score"] for c in candidates), reverse=True)
    assert (by_id["GD-001"]["match_method"], by_id["GD-001"]["match_score"]) == ("text_name", 0.97)

    incident_id = results["GD-001"]["incident_id"]
    for path, headers in [
        ("/api/v1/feeds/hotline/records/GD-001", hotline),
        (f"/api/v1/incidents/{incident_id}", principals.operator),
        ("/api/v1/incidents", principals.display),
        ("/api/v1/entities/LF-000002", principals.operator),
        ("/api/v1/events?since=0", principals.operator),
    ]:
        read = await client.get(path, headers=headers)
        assert read.status_code == 200, (path, read.text)
        answers.append(read.text)
    assert all(free_of_caller(text) for text in answers), [t for t in answers if not free_of_caller(t)]

    async with state.db.session() as session:
        stored = [r.payload for r in (await session.scalars(select(SourceRecord))).all()]
        stored += [r.payload for r in (await session.scalars(select(SourceRecordRevision))).all()]
        events = [
            json.dumps([e.data, e.incident], ensure_ascii=False) for e in await session.scalars(select(LedgerEvent))
        ]
        current = {r.source_record_id: r.payload for r in (await session.scalars(select(SourceRecord))).all()}
    assert current["GD-001"]["回访满意度"] == "满意"
    assert stored and all(p["来电人"] == "****" and p["来电号码"] == "139****5827" for p in stored)
    assert all(free_of_caller(json.dumps(p, ensure_ascii=False)) for p in stored)
    assert events and all(free_of_caller(text) for text in events)
