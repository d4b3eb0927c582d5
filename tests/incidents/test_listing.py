"""GET /incidents: every filter, sorting and pagination; GET /incidents/{id}: records without personal data, events."""

from __future__ import annotations

from datetime import timedelta

import httpx

from service.kit.clock import utcnow
from tests.conftest import Principals
from tests.support.incidents import API, CHONGQING, XIAOZHU, XINYUAN, city_case, get, police_call, push

PHONE = "13800138000"


async def test_filters_sorting_pagination_and_detail(
    client: httpx.AsyncClient, principals: Principals, registry: None
) -> None:
    op, now = principals.operator, utcnow()
    police = await push(
        client,
        principals.police,
        "police",
        police_call(XINYUAN, "noise", at=now - timedelta(minutes=30), phone=PHONE),
        police_call(XIAOZHU, "fire", at=now - timedelta(minutes=60), phone=PHONE),
        police_call(CHONGQING, "order", at=now - timedelta(minutes=120), phone=PHONE),  # 1-hour SLA: overdue
    )
    city = await push(
        client,
        principals.city,
        "city",
        city_case(XINYUAN, at=now - timedelta(minutes=20)),  # joins the noise incident
        city_case(CHONGQING, "06010", "暴露垃圾", at=now - timedelta(minutes=90)),
    )
    noise, fire, order = (r["incident_id"] for r in police)
    assert city[0]["incident_id"] == noise
    litter = city[1]["incident_id"]
    await client.post(f"{API}/incidents/{fire}/assign", json={"assignee": "insp"}, headers=op)

    async def ids(**params: object) -> list[int]:
        page = await get(client, op, "/incidents", **params)
        return [i["id"] for i in page["items"]]

    async def id_set(**params: object) -> set[int]:
        return set(await ids(**params))

    assert await id_set() == {noise, fire, order, litter}
    assert await id_set(status="new") == {noise, order, litter}
    assert await id_set(status="dispatched,closed") == {fire}
    assert await id_set(status="open") == {noise, fire, order, litter}
    assert await id_set(source="city") == {noise, litter}
    assert await id_set(source="police") == {noise, fire, order}
    assert await id_set(category="noise") == {noise}
    assert await id_set(grid="LF-02") == {noise, order, litter}
    assert await id_set(grid="LF-04") == {fire}
    assert await id_set(entity_id=CHONGQING[0]) == {order, litter}
    assert await id_set(assignee="insp") == {fire}
    assert await id_set(overdue="true") == {order}
    assert await id_set(overdue="false") == {noise, fire, litter}
    assert await id_set(source="police", grid="LF-02", overdue="false") == {noise}

    assert await ids(sort="first_reported_at") == [order, litter, fire, noise]
    assert await ids() == [noise, fire, litter, order]  # newest report first
    assert await ids(sort="due_at") == [order, fire, noise, litter]
    assert (await ids(sort="-report_count"))[0] == noise

    first = await get(client, op, "/incidents", sort="first_reported_at", limit=2)
    second = await get(client, op, "/incidents", sort="first_reported_at", limit=2, offset=2)
    beyond = await get(client, op, "/incidents", sort="first_reported_at", limit=2, offset=4)
    assert [i["id"] for i in first["items"] + second["items"]] == [order, litter, fire, noise]
    assert (first["total"], second["total"], beyond["total"], beyond["items"]) == (4, 4, 4, [])

    for bad in ({"status": "finished"}, {"sort": "title"}, {"limit": 0}, {"limit": 501}, {"offset": -1}):
        assert (await client.get(f"{API}/incidents", params=bad, headers=op)).status_code == 422
    assert (await client.get(f"{API}/incidents", headers=principals.police)).status_code == 403
    assert (await get(client, principals.display, "/incidents"))["total"] == 4
    assert (await client.get(f"{API}/incidents/99999", headers=op)).status_code == 404

    # One incident: its records from both departments, without the caller's phone; its events in order.
    response = await client.get(f"{API}/incidents/{noise}", headers=op)
    detail = response.json()
    assert {(r["source"], r["incident_id"]) for r in detail["records"]} == {("police", noise), ("city", noise)}
    assert PHONE not in response.text and "bjrdh" not in response.text and "payload" not in response.text
    assert [e["type"] for e in detail["events"]] == ["created", "report_attached"]
    assert [e["seq"] for e in detail["events"]] == sorted(e["seq"] for e in detail["events"])
    assert detail["sources"] == ["police", "city"] and detail["report_count"] == 2
