"""GET /stats on a data set whose figures are known: open by category, source and grid; new and resolved today;
overdue; the 14-day trend; the entities with the most incidents."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from service.incidents.workflow import escalate_overdue
from service.kit.clock import SHANGHAI as LOCAL_ZONE
from service.kit.clock import local_today_start, utcnow
from service.state import AppState
from tests.conftest import Principals
from tests.support.incidents import API, CHONGQING, XIAOZHU, XINYUAN, change_status, city_case, get, police_call, push


async def _walk(client: httpx.AsyncClient, headers: dict[str, str], incident_id: int, *steps: str) -> None:
    version = (await get(client, headers, f"/incidents/{incident_id}"))["version"]
    for step in steps:
        note = "处理完毕" if step in ("closed", "rejected") else None
        response = await change_status(client, headers, incident_id, step, version, note)
        assert response.status_code == 200, response.text
        version = response.json()["version"]


async def test_stats_on_a_known_data_set(
    client: httpx.AsyncClient, principals: Principals, registry: None, state: AppState
) -> None:
    op, now = principals.operator, utcnow()
    today_start = local_today_start(now)
    # Today, and less than noise's 4-hour deadline ago whatever the time of day the test runs.
    earlier_today = max(today_start + (now - today_start) / 2, now - timedelta(hours=1))

    def days_ago(n: int) -> datetime:
        return today_start - timedelta(days=n) + timedelta(hours=12)

    noise_today, order_3d, fire_5d, fire_today, other_2d = (r["incident_id"] for r in await push(
        client, principals.police, "police",
        police_call(XINYUAN, "noise", at=earlier_today),
        police_call(XINYUAN, "order", at=days_ago(3)),  # 1-hour SLA: overdue
        police_call(XINYUAN, "fire", at=days_ago(5)),  # closed today
        police_call(XIAOZHU, "fire", at=earlier_today),  # rejected today
        police_call(CHONGQING, "other", at=days_ago(2)),  # merged away
    ))  # fmt: skip
    city = await push(
        client, principals.city, "city",
        city_case(XINYUAN, at=earlier_today + (now - earlier_today) / 2),  # joins noise_today
        city_case(XIAOZHU, at=days_ago(20)),  # before the trend window; overdue
    )  # fmt: skip
    assert city[0]["incident_id"] == noise_today
    noise_20d = city[1]["incident_id"]
    await _walk(client, op, fire_5d, "dispatched", "in_progress", "resolved", "closed")
    await _walk(client, op, fire_today, "rejected")
    response = await client.post(f"{API}/incidents/{other_2d}/merge", json={"into": noise_20d}, headers=op)
    assert response.status_code == 200
    async with state.db.transaction() as uow:
        await escalate_overdue(uow)

    stats = await get(client, principals.display, "/stats")
    assert stats["open"] == 3  # noise_today, order_3d, noise_20d
    assert stats["open_by_category"] == {"noise": 2, "order": 1}
    assert stats["open_by_source"] == {"police": 3, "city": 2}  # noise_20d took the merged police call in
    assert stats["open_by_grid"] == {"LF-02": 2, "LF-04": 1}
    assert stats["new_today"] == 2  # noise_today, fire_today (rejected, but it was reported today)
    assert stats["resolved_today"] == 1  # fire_5d; a rejection is no resolution
    assert stats["overdue"] == 2
    # The mark stays on incidents that finished late; the open ones are what the wall counts.
    overdue = await get(client, op, "/incidents", overdue="true", status="open")
    assert {i["id"] for i in overdue["items"]} == {order_3d, noise_20d}

    trend = stats["trend"]

    def local_day(at: datetime) -> str:
        return at.astimezone(LOCAL_ZONE).date().isoformat()

    assert len(trend) == 14
    assert trend[-1]["date"] == local_day(now)
    assert trend[0]["date"] == local_day(today_start - timedelta(days=13))
    by_day = {d["date"]: (d["new"], d["resolved"]) for d in trend if d["new"] or d["resolved"]}
    assert by_day == {
        local_day(now): (2, 1),
        local_day(days_ago(3)): (1, 0),
        local_day(days_ago(5)): (1, 0),
    }  # the merged incident of 2 days ago counts in its survivor, reported 20 days ago

    assert stats["top_entities"] == [
        {"entity_id": XINYUAN[0], "name": XINYUAN[1], "incident_count": 3},
        {"entity_id": XIAOZHU[0], "name": XIAOZHU[1], "incident_count": 2},
    ]
    assert (await client.get(f"{API}/stats", headers=principals.police)).status_code == 403
