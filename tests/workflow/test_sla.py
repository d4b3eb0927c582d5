"""SLA: deadlines from configuration (calendar hours, working hours and days on the Chinese calendar),
the background watch that escalates overdue incidents once, and the overdue figure in the stats."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from service.incidents.bootstrap import check_deadlines
from service.incidents.workflow import escalate_overdue
from service.kit.clock import utcnow
from service.state import AppState
from tests.conftest import Principals
from tests.workflow.conftest import SLA_RULES
from tests.workflow.support import (
    API,
    CHONGQING,
    SHANGHAI,
    XIAOZHU,
    XINYUAN,
    change_status,
    city_case,
    get,
    police_call,
    push,
)


async def _escalations(client: httpx.AsyncClient, headers: dict[str, str], incident_id: int) -> list[dict[str, Any]]:
    events = (await get(client, headers, f"/incidents/{incident_id}"))["events"]
    return [e for e in events if e["type"] == "escalated"]


async def _wait_for_escalation(client: httpx.AsyncClient, headers: dict[str, str], incident_ids: list[int]) -> None:
    for _ in range(200):
        if all([await _escalations(client, headers, i) for i in incident_ids]):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the SLA watch did not escalate {incident_ids}")


@pytest.mark.settings(sla_check_interval_s=0.05)
async def test_deadlines_from_configuration_and_escalation(
    client: httpx.AsyncClient, principals: Principals, registry: None, state: AppState
) -> None:
    assert SLA_RULES["order"] == {"amount": 1, "unit": "calendar_hours"}
    op, now = principals.operator, utcnow()

    # Calendar hours: a police call two hours ago under a one-hour rule is already late.
    late_call = police_call(CHONGQING, "order", at=now - timedelta(hours=2))
    # Working days: a consumer dispute on Wednesday 30 September 2026 is due at the close of the 2nd
    # working day after — the National Day holiday (1–7 October) does not count: Friday 9 October, 17:30.
    before_holiday = police_call(XIAOZHU, "price", at=datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI))
    # …and one on Thursday 8 October is due on Saturday 10 October, a make-up working day (调休).
    after_holiday = police_call(XINYUAN, "price", at=datetime(2026, 10, 8, 15, 0, tzinfo=SHANGHAI))
    # Working hours: 4 h from Wednesday 30 September 16:00 = 1.5 h that day + 2.5 h on 8 October → 11:30.
    unlicensed = city_case(CHONGQING, "09015", "无证餐饮", at=datetime(2026, 9, 30, 16, 0, tzinfo=SHANGHAI))
    late, dispute_1, dispute_2 = (r["incident_id"] for r in await push(
        client, principals.police, "police", late_call, before_holiday, after_holiday
    ))  # fmt: skip
    (licence,) = (r["incident_id"] for r in await push(client, principals.city, "city", unlicensed))
    # Fresh ones, due later: noise after the default 4 calendar hours, a fire hazard after 2.
    noise, fire = (r["incident_id"] for r in await push(
        client, principals.police, "police", police_call(XINYUAN, "noise", at=now), police_call(XIAOZHU, "fire", at=now)
    ))  # fmt: skip

    async def due_at(incident_id: int) -> datetime:
        return datetime.fromisoformat((await get(client, op, f"/incidents/{incident_id}"))["due_at"])

    assert await due_at(late) == (now - timedelta(hours=1)).replace(microsecond=0)
    assert await due_at(dispute_1) == datetime(2026, 10, 9, 9, 30, tzinfo=UTC)
    assert await due_at(dispute_2) == datetime(2026, 10, 10, 9, 30, tzinfo=UTC)
    assert await due_at(licence) == datetime(2026, 10, 8, 3, 30, tzinfo=UTC)
    assert await due_at(noise) == (now + timedelta(hours=4)).replace(microsecond=0)

    # The watch escalates each late incident once, with an event saying how late it is.
    overdue_ids = [late, dispute_1, dispute_2, licence]
    await _wait_for_escalation(client, op, overdue_ids)
    (escalated,) = await _escalations(client, op, late)
    assert escalated["actor"] == "system:sla"
    assert 3600 <= escalated["data"]["overdue_by_s"] < 3600 + 60
    listed = await get(client, op, "/incidents", overdue="true")
    assert {i["id"] for i in listed["items"]} == set(overdue_ids)
    stats = await get(client, principals.display, "/stats")
    assert stats["overdue"] == 4
    assert state.metrics.registry.get_sample_value("cb_incidents_overdue") == 4

    # Running again escalates nothing new, by hand or in a round of the watch.
    async with state.db.transaction() as uow:
        assert await escalate_overdue(uow) == 0
    assert await check_deadlines(state) == 0
    for incident_id in overdue_ids:
        assert len(await _escalations(client, op, incident_id)) == 1

    # Later on, an open incident that passes its deadline is escalated; a finished one is not.
    version = (await get(client, op, f"/incidents/{fire}"))["version"]
    assert (await change_status(client, op, fire, "rejected", version, "误报")).status_code == 200
    async with state.db.transaction() as uow:
        assert await escalate_overdue(uow, now=now + timedelta(hours=5)) == 1
    noise_now = await get(client, op, f"/incidents/{noise}")
    assert noise_now["overdue"] is True
    assert [e["data"]["overdue_by_s"] for e in noise_now["events"] if e["type"] == "escalated"] == [3600]
    assert (await get(client, op, f"/incidents/{fire}"))["overdue"] is False
    assert (await get(client, principals.display, "/stats"))["overdue"] == 5
    assert (await client.get(f"{API}/ledger/verify", headers=principals.admin)).json()["ok"]
