"""GET /painpoints: themes ranked over hotline orders, visit needs and department problems, with the
previous period of equal length and the communities most affected (未知 when nothing says which)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.conftest import Principals, bearer
from tests.support.feeds import SHANGHAI, police_call, push_ok
from tests.visits.test_visits import visit

pytestmark = pytest.mark.usefixtures("registry", "ledger_checked")

WEEK = {"from": "2026-11-16", "to": "2026-11-22"}


def order(number: str, when: str, text: str, address: str) -> dict[str, Any]:
    return {"工单编号": number, "来电时间": when, "诉求内容": text, "诉求地址": address,
            "来电人": "王秀英", "来电号码": "13916605827"}  # fmt: skip


async def key_for(client: httpx.AsyncClient, principals: Principals, source: str) -> dict[str, str]:
    created = await client.post("/api/v1/keys", json={"role": "department", "source": source}, headers=principals.admin)
    assert created.status_code == 201, created.text
    return bearer(created.json()["key"])


async def test_themes_are_ranked_with_their_trend_and_communities(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    hotline = await key_for(client, principals, "hotline")
    visits = await key_for(client, principals, "visits")
    results = await push_ok(client, hotline, "hotline", [
        order("PP-1", "2026-11-20 22:10:00", "小朱便利店晚上门口卸货噪音特别大，吵得睡不着觉", "临汾路46号"),
        order("PP-2", "2026-11-20 19:00:00", "市民来电称楼下烧烤店油烟直排，熏得窗户都不敢开，要求相关部门处理",
              "临汾路375弄小区门口那家烧烤店"),
        order("PP-3", "2026-11-12 08:00:00", "小区门口车子乱停乱放，进出很不方便", "阳曲路760弄"),  # the week before
    ])  # fmt: skip
    assert [r["status"] for r in results] == ["created"] * 3, results
    results = await push_ok(client, visits, "visits", [
        visit("PV-1", 走访日期="2026-11-18", 需求=[{"项目": "加装电梯", "急": True}, "停车难"]),
        visit("PV-2", 走访日期="2026-11-19", 居委="岭南一村", 需求=["加装电梯"]),
        visit("PV-3", 走访日期="2026-11-10", 需求=["加装电梯"]),  # the week before
        visit("PV-4", 走访日期="2026-11-23", 需求=["群租整治"]),  # the week after
    ])  # fmt: skip
    assert [r["status"] for r in results] == ["created"] * 4, results
    when = datetime(2026, 11, 21, 23, 0, tzinfo=SHANGHAI)
    call = police_call(
        "PP-P1", when, code="0202", label="噪声扰民", name="小朱便利店", address="临汾路46号", text="噪声"
    )
    [placed] = await push_ok(client, principals.police, "police", [call])
    assert placed["entity_id"] == "LF-000002", placed

    answer = await client.get("/api/v1/painpoints", params=WEEK, headers=principals.display)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["period"] == {"start": "2026-11-16", "end": "2026-11-22"}
    assert body["previous"] == {"start": "2026-11-09", "end": "2026-11-15"}
    got = {i["theme"]: i for i in body["items"]}
    # elevator 2 (visits; 1 the week before) and noise 2 (a hotline order and a police call, both at
    # 小朱便利店 in 闻喜苑): the tie goes to the theme that was there before. The urgent 加装电梯 is
    # counted once, as the visit's need.
    assert [(i["rank"], i["theme"], i["count"], i["previous_count"]) for i in body["items"]] == [
        (1, "elevator", 2, 1),
        (2, "noise", 2, 0),
        (3, "parking", 1, 1),
        (4, "fumes", 1, 0),
    ]
    assert (got["elevator"]["change"], got["elevator"]["change_ratio"], got["elevator"]["trend"]) == (1, 1.0, "up")
    assert (got["parking"]["trend"], got["noise"]["trend"], got["noise"]["change_ratio"]) == ("flat", "new", None)
    assert got["noise"]["by_kind"] == {"hotline": 1, "visits": 0, "departments": 1}
    assert got["noise"]["communities"] == [{"community": "闻喜苑", "count": 2}]
    assert {c["community"] for c in got["elevator"]["communities"]} == {"闻喜苑", "岭南一村"}
    assert got["fumes"]["communities"] == [{"community": "未知", "count": 1}]  # a vague address: not guessed
    assert got["elevator"]["label"] == "电梯" and got["noise"]["label"] == "噪声扰民"
    assert (body["total"], body["previous_total"], body["unknown_community"]) == (6, 2, 1)
    assert body["communities"][0] == {"community": "闻喜苑", "count": 4}

    mine = (
        await client.get("/api/v1/painpoints", params={**WEEK, "community": "闻喜苑"}, headers=principals.operator)
    ).json()
    assert [(i["theme"], i["count"]) for i in mine["items"]] == [("noise", 2), ("elevator", 1), ("parking", 1)]
    two = (await client.get("/api/v1/painpoints", params={**WEEK, "limit": 2}, headers=principals.inspector)).json()
    assert [i["theme"] for i in two["items"]] == ["elevator", "noise"]
    assert "13916605827" not in answer.text and "王秀英" not in answer.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-11-30", "to": "2026-11-01"}, "from"),
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2025-01-01", "to": "2026-11-30"}, "to"),
        ({"limit": "0"}, "limit"),
        ({"from": "0001-01-01", "to": "0001-01-05"}, "from"),
        ({"from": "9999-12-25", "to": "9999-12-31"}, "from"),
        ({"to": "9999-12-31"}, "to"),
        ({"community": ""}, "community"),
    ],
)
async def test_bad_parameters_are_named(
    client: httpx.AsyncClient, principals: Principals, params: dict[str, str], field: str
) -> None:
    answer = await client.get("/api/v1/painpoints", params=params, headers=principals.display)
    assert answer.status_code == 422, answer.text
    assert [d["field"] for d in answer.json()["error"]["details"]] == [f"query.{field}"], answer.text


async def test_who_reads_the_pain_points(client: httpx.AsyncClient, principals: Principals) -> None:
    for headers in (principals.admin, principals.operator, principals.inspector, principals.display):
        assert (await client.get("/api/v1/painpoints", headers=headers)).status_code == 200
    assert (await client.get("/api/v1/painpoints", headers=principals.police)).status_code == 403
    assert (await client.get("/api/v1/painpoints")).status_code == 401


async def test_the_entity_file_counts_the_residents_complaints(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    hotline = await key_for(client, principals, "hotline")
    await push_ok(client, hotline, "hotline", [
        order("EF-1", "2026-11-20 22:10:00", "小朱便利店晚上门口卸货噪音特别大，吵得睡不着觉", "临汾路46号"),
        order("EF-2", "2026-11-21 23:10:00", "小朱便利店半夜还在搬货，吵死了，麻烦你们管管", "临汾路46号"),
    ])  # fmt: skip
    file = (await client.get("/api/v1/entities/LF-000002", headers=principals.operator)).json()
    assert [(c["theme"], c["label"], c["count"]) for c in file["complaints"]] == [("noise", "噪声扰民", 2)]
    assert file["complaints"][0]["last_at"].startswith("2026-11-21T15:10")
    assert "王秀英" not in str(file) and "13916605827" not in str(file)
