"""POST /feeds/{source}/records: one object or an array, per-item results, idempotent resends."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from service.feeds.router import REBALANCE_AFTER_RECORDS
from service.records.models import SourceRecord, SourceRecordRevision
from service.state import AppState
from tests.conftest import Principals
from tests.support.feeds import (
    CHONGQING,
    XIAOZHU,
    XINYUAN,
    at,
    city_case,
    head_seq,
    incident,
    ledger_events,
    police_call,
    push,
    push_ok,
)

pytestmark = pytest.mark.usefixtures("registry", "ledger_checked")


async def test_one_object_and_an_array(client: httpx.AsyncClient, principals: Principals) -> None:
    entity_id, name, address, *_ = XINYUAN
    [one] = await push_ok(client, principals.police, "police", police_call("P1", at(0), name=name, address=address))
    assert one["status"] == "created" and one["source_record_id"] == "P1" and one["index"] == 0
    assert one["entity_id"] == entity_id and one["incident_id"] is not None and one["errors"] == []

    batch = [
        police_call("P2", at(1), code="0202", label="噪声扰民", name=XIAOZHU[1], address=XIAOZHU[2]),
        police_call("P3", at(2), code="0301", label="交通事故", address="临汾路闻喜路路口"),
        police_call("P4", at(3), code="0602", label="消费纠纷", name=CHONGQING[1], address=CHONGQING[2]),
    ]
    results = await push_ok(client, principals.police, "police", batch)
    assert [(r["index"], r["source_record_id"], r["status"]) for r in results] == [
        (0, "P2", "created"),
        (1, "P3", "created"),
        (2, "P4", "created"),
    ]
    assert results[0]["entity_id"] == XIAOZHU[0] and results[2]["entity_id"] == CHONGQING[0]
    assert results[1]["entity_id"] is None  # a crossing: no entity, still a problem
    assert all(r["incident_id"] is not None for r in results)

    listed = await client.get("/api/v1/records", params={"source": "police"}, headers=principals.operator)
    assert listed.status_code == 200 and listed.json()["total"] == 4


async def test_mixed_batch_stores_the_valid_and_names_each_bad_field(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    missing_time = police_call("BAD-TIME", at(0))
    del missing_time["bjsj"]
    batch = [
        police_call("OK-1", at(0), name=XINYUAN[1], address=XINYUAN[2]),
        missing_time,
        police_call("BAD-CODE", at(0), code="9999"),
        "not an object",
        police_call("BAD-PLACE", at(0), lng=200.0, lat=31.3),
        police_call("OK-2", at(1), code="0202", label="噪声扰民", address="汾西路103号"),
    ]
    response = await push(client, principals.police, "police", batch)
    assert response.status_code == 200, response.text
    body = response.json()
    results = body["results"]
    assert [r["status"] for r in results] == ["created", "rejected", "rejected", "rejected", "rejected", "created"]
    assert body["summary"] == {"read": 6, "created": 2, "updated": 0, "unchanged": 0, "rejected": 4}

    def fields(index: int) -> set[str]:
        assert all(e["reason"] for e in results[index]["errors"])
        return {e["field"] for e in results[index]["errors"]}

    assert fields(1) == {"bjsj"} and results[1]["source_record_id"] == "BAD-TIME"
    assert fields(2) == {"bjlbdm"}
    assert fields(3) == {"(record)"} and results[3]["source_record_id"] is None
    assert fields(4) == {"jd"}
    assert all(results[i]["record_id"] is None for i in (1, 2, 3, 4))

    stored = await client.get("/api/v1/records", params={"source": "police"}, headers=principals.operator)
    assert sorted(r["source_record_id"] for r in stored.json()["items"]) == ["OK-1", "OK-2"]


async def test_identical_resend_is_unchanged_and_writes_nothing(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    call = police_call("P-SAME", at(0), name=XINYUAN[1], address=XINYUAN[2])
    [first] = await push_ok(client, principals.police, "police", call)
    seq = await head_seq(client, principals.operator)

    [again] = await push_ok(client, principals.police, "police", dict(reversed(list(call.items()))))
    assert again["status"] == "unchanged"
    assert (again["record_id"], again["incident_id"]) == (first["record_id"], first["incident_id"])
    assert await head_seq(client, principals.operator) == seq

    # The same id twice in one request: the second is the resend of the first.
    twice = await push_ok(
        client, principals.police, "police", [police_call("P-TWICE", at(1)), police_call("P-TWICE", at(1))]
    )
    assert [r["status"] for r in twice] == ["created", "unchanged"]
    assert twice[0]["record_id"] == twice[1]["record_id"]


async def test_changed_content_is_a_new_revision_and_the_old_one_is_kept(
    client: httpx.AsyncClient, principals: Principals, state: AppState
) -> None:
    call = police_call("P-REV", at(0), name=XINYUAN[1], address=XINYUAN[2], status="待派警")
    [first] = await push_ok(client, principals.police, "police", call)
    [second] = await push_ok(client, principals.police, "police", {**call, "jqzt": "已派警"})
    assert second["status"] == "updated"
    assert (second["record_id"], second["incident_id"]) == (first["record_id"], first["incident_id"])

    status = await client.get("/api/v1/feeds/police/records/P-REV", headers=principals.police)
    assert status.status_code == 200 and status.json()["revision"] == 2

    async with state.db.session() as session:
        record = await session.scalar(select(SourceRecord).where(SourceRecord.source_record_id == "P-REV"))
        revisions = (
            await session.scalars(
                select(SourceRecordRevision).where(SourceRecordRevision.record_id == first["record_id"])
            )
        ).all()
    assert record is not None and record.revision == 2 and record.payload["jqzt"] == "已派警"
    assert [(r.revision, r.payload["jqzt"]) for r in revisions] == [(1, "待派警")]
    assert revisions[0].content_hash != record.content_hash

    # The same id changed twice inside one request: two revisions, in order.
    other = {**call, "jjdbh": "P-REV2", "dwmc": XIAOZHU[1], "afdz": XIAOZHU[2]}
    changes = [{**other, "jqzt": stage} for stage in ("待派警", "已派警", "已到场")]
    assert [r["status"] for r in await push_ok(client, principals.police, "police", changes)] == [
        "created",
        "updated",
        "updated",
    ]
    pulled = await client.get("/api/v1/feeds/police/records/P-REV2", headers=principals.police)
    assert pulled.json()["revision"] == 3
    detail = await incident(client, principals.operator, pulled.json()["incident"]["id"])
    assert detail["report_count"] == 1  # one record, however often it changed on the way
    assert [e["type"] for e in detail["events"]] == ["created"]


async def test_city_case_resent_with_a_new_stage_updates_its_incident(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    entity_id, name, address, lat, lng = XIAOZHU
    case = city_case("C-STAGE", at(0), shop=name, address=address, wgs84=(lat, lng), stage="已立案")
    [first] = await push_ok(client, principals.city, "city", case)
    assert first["status"] == "created" and first["entity_id"] == entity_id
    seq = await head_seq(client, principals.operator)

    [moved] = await push_ok(client, principals.city, "city", {**case, "stage": "处置中"})
    assert moved["status"] == "updated" and moved["incident_id"] == first["incident_id"]

    events = await ledger_events(client, principals.operator, since=seq)
    assert [(e["type"], e["incident_id"]) for e in events] == [("report_updated", first["incident_id"])]
    data = events[0]["data"]
    assert (data["source_record_id"], data["revision"]) == ("C-STAGE", 2)
    assert (data["previous_status_text"], data["status_text"]) == ("已立案", "处置中")
    assert events[0]["incident"]["report_count"] == 1  # a revision is not another report

    detail = await incident(client, principals.operator, first["incident_id"])
    assert detail["report_count"] == 1
    assert [r["status_text"] for r in detail["records"]] == ["处置中"]


async def test_a_department_pulls_the_status_of_its_own_record(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    [pushed] = await push_ok(
        client, principals.police, "police", police_call("P-PULL", at(0), name=XINYUAN[1], address=XINYUAN[2])
    )
    response = await client.get("/api/v1/feeds/police/records/P-PULL", headers=principals.police)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["source"], body["source_record_id"], body["record_id"]) == ("police", "P-PULL", pushed["record_id"])
    assert body["incident"]["id"] == pushed["incident_id"] and body["incident"]["status"] == "new"
    assert "13912345678" not in response.text and "payload" not in body

    other = await client.get("/api/v1/feeds/police/records/P-PULL", headers=principals.city)
    assert other.status_code == 403
    missing = await client.get("/api/v1/feeds/police/records/NOPE", headers=principals.police)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


async def test_a_large_batch_ends_its_connection_so_the_next_one_may_go_to_another_worker(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    single = await push(client, principals.police, "police", police_call("K0", at(0), address="临汾路375号"))
    assert single.status_code == 200 and "connection" not in single.headers
    batch = [police_call(f"K{i}", at(i), address="临汾路375号") for i in range(1, 1 + REBALANCE_AFTER_RECORDS)]
    response = await push(client, principals.police, "police", batch)
    assert response.status_code == 200 and response.headers["connection"] == "close"
    assert len(response.json()["results"]) == REBALANCE_AFTER_RECORDS
