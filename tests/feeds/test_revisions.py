"""A department's revision places its report again when what decides its incident changed: the
entity, the category, the time, or — for a report at no entity — the place."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from service.incidents.placement import WITHDRAWN_NOTE
from service.matching.geo import METRES_PER_DEGREE_LAT
from tests.conftest import Principals
from tests.support.feeds import XIAOZHU, XINYUAN, at, city_case, incident, police_call, push_ok
from tests.support.records import market_item

pytestmark = pytest.mark.usefixtures("registry", "ledger_checked")

CROSSING = (31.2990, 121.4480)  # a stretch of road, away from the register's doors
DEG_PER_M = 1 / METRES_PER_DEGREE_LAT


def call(shop: tuple[str, str, str, float, float], call_id: str, hours: float, code: str = "0202") -> dict[str, Any]:
    return police_call(call_id, at(hours), code=code, label="", name=shop[1], address=shop[2], text="噪声扰民")


def crossing(task_id: str, hours: float, north_m: float) -> dict[str, Any]:
    """A city case at no entity, ``north_m`` north of the crossing."""
    lat, lng = CROSSING
    wgs84 = (lat + north_m * DEG_PER_M, lng)
    return city_case(task_id, at(hours), code="09006", label="占道经营", address="临汾路与汾西路交叉口", wgs84=wgs84)


async def test_a_report_at_no_entity_moved_elsewhere_joins_the_incident_there(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    [a] = await push_ok(client, principals.city, "city", crossing("P1", 0, 0))
    [b] = await push_ok(client, principals.city, "city", crossing("P2", 1, 10))
    [far] = await push_ok(client, principals.city, "city", crossing("P3", 2, 400))
    assert a["incident_id"] == b["incident_id"] != far["incident_id"]

    # P2 was 400 m up the road: it leaves the crossing's incident for the one there.
    [moved] = await push_ok(client, principals.city, "city", crossing("P2", 1, 410))
    assert moved["status"] == "updated" and moved["incident_id"] == far["incident_id"]
    left = await incident(client, principals.operator, a["incident_id"])
    assert [r["source_record_id"] for r in left["records"]] == ["P1"] and left["report_count"] == 1
    joined = await incident(client, principals.operator, far["incident_id"])
    assert sorted(r["source_record_id"] for r in joined["records"]) == ["P2", "P3"] and joined["report_count"] == 2


async def test_a_report_given_another_entity_joins_that_entitys_incident(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    [a1] = await push_ok(client, principals.police, "police", call(XINYUAN, "R1", 0))
    [a2] = await push_ok(client, principals.police, "police", call(XINYUAN, "R2", 1))
    [b1] = await push_ok(client, principals.police, "police", call(XIAOZHU, "R3", 2))
    assert a1["incident_id"] == a2["incident_id"] != b1["incident_id"]
    [moved] = await push_ok(client, principals.police, "police", call(XIAOZHU, "R2", 1))
    assert moved["entity_id"] == XIAOZHU[0] and moved["incident_id"] == b1["incident_id"]
    assert (await incident(client, principals.operator, a1["incident_id"]))["report_count"] == 1


async def test_a_revision_joins_an_incident_its_own_request_opens(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    [a1] = await push_ok(client, principals.police, "police", call(XINYUAN, "S1", 0))
    await push_ok(client, principals.police, "police", call(XINYUAN, "S2", 1))
    # One request: a new fire report at the shop, and S2 corrected to a fire hazard.
    fire, revised = await push_ok(
        client, principals.police, "police", [call(XINYUAN, "S3", 2, code="0402"), call(XINYUAN, "S2", 1, code="0402")]
    )
    assert revised["status"] == "updated"
    assert revised["incident_id"] == fire["incident_id"] != a1["incident_id"]


async def test_a_record_revised_twice_in_one_request_ends_where_its_last_revision_puts_it(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    await push_ok(client, principals.police, "police", call(XINYUAN, "T1", 0))
    await push_ok(client, principals.police, "police", call(XINYUAN, "T2", 1))
    first, last = await push_ok(
        client, principals.police, "police", [call(XINYUAN, "T2", 1, code="0402"), call(XIAOZHU, "T2", 1, code="0402")]
    )
    assert first["incident_id"] == last["incident_id"] and last["entity_id"] == XIAOZHU[0]
    detail = await incident(client, principals.operator, last["incident_id"])
    assert (detail["entity_id"], detail["category"], detail["report_count"]) == (XIAOZHU[0], "fire", 1)


def inspection(record_id: str, day: str, passed: bool = False) -> dict[str, Any]:
    """A market inspection at 重庆小面: found wanting, or (revised) passed."""
    if passed:
        return market_item(record_id, 检查日期=day, 检查结果="符合", 处理措施="通过", 问题描述="")
    return market_item(record_id, 检查日期=day)


async def test_a_report_revised_into_no_problem_leaves_its_incident(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    """Its incident, left without reports before anybody started on it, is rejected with a note that
    says why; revised back into a problem, it is placed again."""
    [found] = await push_ok(client, principals.market, "market", inspection("M1", "2026/10/05"))
    [passed] = await push_ok(client, principals.market, "market", inspection("M1", "2026/10/05", passed=True))
    assert passed["status"] == "updated" and passed["incident_id"] is None
    gone = await incident(client, principals.operator, found["incident_id"])
    assert (gone["status"], gone["report_count"], gone["records"]) == ("rejected", 0, [])
    assert gone["resolution_note"] == WITHDRAWN_NOTE
    [again] = await push_ok(client, principals.market, "market", inspection("M1", "2026/10/05"))
    assert again["incident_id"] not in (None, found["incident_id"])


async def test_an_incident_keeps_its_other_reports_when_one_is_revised_into_no_problem(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    first, second = await push_ok(
        client, principals.market, "market", [inspection("M2", "2026/10/05"), inspection("M3", "2026/10/06")]
    )
    assert first["incident_id"] == second["incident_id"]
    await push_ok(client, principals.market, "market", inspection("M3", "2026/10/06", passed=True))
    kept = await incident(client, principals.operator, first["incident_id"])
    assert (kept["status"], kept["report_count"]) == ("new", 1)
    assert [r["source_record_id"] for r in kept["records"]] == ["M2"]


async def test_an_incident_lists_only_the_departments_whose_reports_it_still_holds(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    [police] = await push_ok(client, principals.police, "police", call(XINYUAN, "U1", 0))
    [city] = await push_ok(client, principals.city, "city", city_case("U2", at(1), shop=XINYUAN[1], address=XINYUAN[2]))
    assert police["incident_id"] == city["incident_id"]
    both = await incident(client, principals.operator, police["incident_id"])
    assert sorted(both["sources"]) == ["city", "police"]
    await push_ok(client, principals.city, "city", city_case("U2", at(1), shop=XIAOZHU[1], address=XIAOZHU[2]))
    left = await incident(client, principals.operator, police["incident_id"])
    assert (left["sources"], left["report_count"]) == (["police"], 1)
