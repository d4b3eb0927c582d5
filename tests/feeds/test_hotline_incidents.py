"""12345 orders in the incidents, through the HTTP API: residents calling about one problem join one
incident with the police's and the city's reports under the merging rule (one entity, one category,
within the window), and the hotline pulls its status back — in its own words, and once the incident
is closed the 办结 reply with the operator's resolution (hotline.toml, [status])."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from service.feeds.definitions.format import StatusSpec
from service.kit.clock import utcnow
from tests.conftest import Principals, bearer
from tests.support.incidents import API, XIAOZHU, change_status, city_case, get, local_text, police_call, push

CALLER_PHONE = "13916605827"


def order(number: str, text: str, address: str = "临汾路46号", minutes_ago: int = 50) -> dict[str, Any]:
    return {
        "工单编号": number,
        "来电时间": local_text(utcnow() - timedelta(minutes=minutes_ago)),
        "诉求内容": text,
        "诉求地址": address,
        "来电人": "王秀英",
        "来电号码": CALLER_PHONE,
    }


async def hotline_key(client: httpx.AsyncClient, principals: Principals) -> dict[str, str]:
    created = await client.post(
        "/api/v1/keys", json={"role": "department", "source": "hotline"}, headers=principals.admin
    )
    assert created.status_code == 201, created.text
    return bearer(created.json()["key"])


@pytest.mark.usefixtures("registry", "ledger_checked")
async def test_residents_calls_merge_with_the_departments_reports_and_get_the_reply(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    hotline = await hotline_key(client, principals)
    op = principals.operator

    # Three residents about the noise of 小朱便利店 (临汾路46号), in their own words.
    calls = await push(
        client,
        hotline,
        "hotline",
        order("GD-101", "小朱便利店晚上门口卸货噪音特别大，吵得睡不着", minutes_ago=90),
        order("GD-102", "楼下便利店半夜卸货乒乒乓乓的，太吵了", minutes_ago=70),
        order("GD-103", "投诉小朱便利店，凌晨还在大声喧哗", address="临汾路", minutes_ago=60),
    )
    assert {c["entity_id"] for c in calls} == {XIAOZHU[0]}
    incident_id = calls[0]["incident_id"]
    assert {c["incident_id"] for c in calls} == {incident_id}
    # The police and the city report the same noise: the same incident, five reports.
    (call,) = await push(client, principals.police, "police", police_call(XIAOZHU, "noise"))
    (case,) = await push(client, principals.city, "city", city_case(XIAOZHU))
    assert call["incident_id"] == case["incident_id"] == incident_id
    incident = await get(client, op, f"/incidents/{incident_id}")
    assert incident["report_count"] == 5
    assert set(incident["sources"]) == {"hotline", "police", "city"}
    assert incident["category"] == "noise" and incident["entity_id"] == XIAOZHU[0]

    # Another problem at the same shop (its doorway blocked: 消防) is another incident.
    (other,) = await push(client, hotline, "hotline", order("GD-104", "小朱便利店门口堆满纸箱，消防通道堵了"))
    assert other["entity_id"] == XIAOZHU[0] and other["incident_id"] != incident_id
    # A resident far away (no 便利店 named, another road) is not merged into it.
    (far,) = await push(client, hotline, "hotline", order("GD-105", "晚上KTV太吵了", address="场中路一带"))
    assert far["incident_id"] != incident_id

    url = f"{API}/feeds/hotline/records/GD-102"
    status = (await client.get(url, headers=hotline)).json()
    assert (status["incident"]["id"], status["department_status"], status["department_reply"]) == (
        incident_id,
        "已受理",
        None,
    )

    # The command centre works it through to closed, with the resolution.
    await client.post(f"{API}/incidents/{incident_id}/assign", json={"assignee": "insp"}, headers=op)
    version = (await get(client, op, f"/incidents/{incident_id}"))["version"]
    assert (await change_status(client, op, incident_id, "in_progress", version)).status_code == 200
    status = (await client.get(url, headers=hotline)).json()
    assert (status["department_status"], status["department_reply"]) == ("办理中", None)
    version = (await get(client, op, f"/incidents/{incident_id}"))["version"]
    assert (await change_status(client, op, incident_id, "resolved", version)).status_code == 200
    version = (await get(client, op, f"/incidents/{incident_id}"))["version"]
    note = "已约谈店主，卸货改在早上七点以后，复查无噪声扰民"
    assert (await change_status(client, op, incident_id, "closed", version, note)).status_code == 200

    for number in ("GD-101", "GD-102", "GD-103"):
        response = await client.get(f"{API}/feeds/hotline/records/{number}", headers=hotline)
        assert response.status_code == 200, response.text
        status = response.json()
        assert status["department_status"] == "办结"
        assert status["department_reply"] == f"您反映的问题已办结（事件{incident_id}）。处理结果：{note}"
        assert CALLER_PHONE not in response.text and "王秀英" not in response.text
    # The other incident is still open: no reply for it; the police see their own words, no reply.
    other_status = (await client.get(f"{API}/feeds/hotline/records/GD-104", headers=hotline)).json()
    assert (other_status["department_status"], other_status["department_reply"]) == ("已受理", None)
    police = await client.get(f"{API}/feeds/police/records/{call['source_record_id']}", headers=principals.police)
    assert police.json()["department_reply"] is None
    # Another department's key may not read the hotline's records.
    assert (await client.get(url, headers=principals.police)).status_code == 403


@pytest.mark.usefixtures("registry", "ledger_checked")
async def test_a_rejected_order_gets_the_reason(client: httpx.AsyncClient, principals: Principals) -> None:
    hotline = await hotline_key(client, principals)
    op = principals.operator
    (result,) = await push(client, hotline, "hotline", order("GD-201", "小朱便利店价格不明码标价"))
    incident_id = result["incident_id"]
    version = (await get(client, op, f"/incidents/{incident_id}"))["version"]
    reason = "经现场核查，价格标签齐全"
    assert (await change_status(client, op, incident_id, "rejected", version, reason)).status_code == 200
    status = (await client.get(f"{API}/feeds/hotline/records/GD-201", headers=hotline)).json()
    assert status["department_status"] == "退回"
    assert status["department_reply"] == f"您反映的问题经核实不予立案（事件{incident_id}）。说明：{reason}"


@pytest.mark.usefixtures("registry", "ledger_checked")
async def test_unlinked_calls_about_one_place_merge_by_where_the_text_puts_them(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    hotline = await hotline_key(client, principals)
    # No 烧烤店 on 临汾路 in the register: both wait unlinked, at the point the text names (375弄, 377号),
    # and merge as reports at no entity do (same category, within 50 m, within the window).
    first, second, elsewhere = await push(
        client,
        hotline,
        "hotline",
        order("GD-301", "市民来电称楼下烧烤店油烟直排，熏得窗户都不敢开", address="临汾路375弄小区门口那家烧烤店"),
        order("GD-302", "那家烧烤店油烟很大，楼上全是味道", address="临汾路377号附近"),
        order("GD-303", "烧烤店油烟直排，熏得窗户都不敢开", address="临汾路1201号附近"),
    )
    assert first["entity_id"] is second["entity_id"] is elsewhere["entity_id"] is None
    assert first["incident_id"] == second["incident_id"] != elsewhere["incident_id"]
    incident = await get(client, principals.operator, f"/incidents/{first['incident_id']}")
    assert incident["report_count"] == 2 and incident["lat"] is not None
    records = await get(client, principals.operator, "/records", source="hotline", linked="false")
    assert {"GD-301", "GD-302", "GD-303"} <= {r["source_record_id"] for r in records["items"]}


def test_a_definitions_reply_names_an_end_and_known_fields() -> None:
    spec = StatusSpec(field="办理状态", reply={"closed": "已办结：{note}（{incident}）"})
    assert spec.reply_for("closed", "已整改", 7) == "已办结：已整改（7）"
    assert spec.reply_for("resolved", "已整改", 7) is None
    for reply in ({"resolved": "好了"}, {"closed": "已办结：{caller}"}, {"closed": "已办结：{note"}, {"closed": ""}):
        with pytest.raises(ValidationError):
            StatusSpec(field="办理状态", reply=reply)
