"""Feed API helpers: records in each department's native format, pushed, and the ledger read back."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from service.matching.geo import wgs84_to_gcj02

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Well in the past (records more than a day ahead of now are refused), well inside one month.
BASE = datetime(2026, 10, 5, 9, 0, tzinfo=SHANGHAI)
CALLER_PHONE = "13912345678"
MASKED_PHONE = "139****5678"

# Register entities the tests use (service/demo/data/registry.csv): id, signboard name, address, lat, lng.
XINYUAN = ("LF-000001", "鑫源快递驿站", "岭南路583号", 31.297083, 121.455159)
XIAOZHU = ("LF-000002", "小朱便利店", "临汾路46号", 31.301223, 121.444758)
CHONGQING = ("LF-000003", "重庆小面", "汾西路103号", 31.297004, 121.451001)


def at(hours: float) -> datetime:
    """A local time ``hours`` after BASE."""
    return BASE + timedelta(hours=hours)


def police_call(
    call_id: str,
    when: datetime,
    *,
    code: str = "0402",
    label: str = "火灾隐患",
    name: str = "",
    address: str = "",
    lng: float | None = None,
    lat: float | None = None,
    phone: str = CALLER_PHONE,
    status: str = "待派警",
    text: str = "私拉电线",
) -> dict[str, Any]:
    """A 警情 as the police system pushes it (docs/adapters.md, "Police")."""
    call: dict[str, Any] = {
        "jjdbh": call_id,
        "bjsj": when.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
        "bjtj": "110电话",
        "bjlbdm": code,
        "bjlb": label,
        "afdz": address,
        "dwmc": name,
        "bjnr": text,
        "gxdw": "临汾路派出所",
        "jqzt": status,
        "bjrdh": phone,
    }
    if lng is not None and lat is not None:
        call["jd"], call["wd"] = lng, lat
    return call


def city_case(
    task_id: str,
    when: datetime,
    *,
    code: str = "06028",
    label: str = "噪声扰民",
    shop: str | None = None,
    address: str = "",
    wgs84: tuple[float, float] | None = None,
    stage: str = "已立案",
) -> dict[str, Any]:
    """A 数字城管 case as the city system pushes it (docs/adapters.md, "City management").

    ``wgs84`` is (lat, lng), sent as GCJ-02.
    """
    case: dict[str, Any] = {
        "taskId": task_id,
        "infoSource": "监督员上报",
        "categoryCode": code,
        "categoryName": label,
        "description": "深夜顾客喧哗",
        "address": address,
        "shopName": shop,
        "discoverTime": when.astimezone(SHANGHAI).isoformat(),
        "deadline": (when + timedelta(days=2)).astimezone(SHANGHAI).isoformat(),
        "stage": stage,
        "photos": [],
        "gridCode": "310106021008",
        "reporter": "监督员郭艳",
    }
    if wgs84 is not None:
        lng, lat = wgs84_to_gcj02(wgs84[1], wgs84[0])
        case["location"] = {"lng": round(lng, 6), "lat": round(lat, 6), "crs": "GCJ-02"}
    return case


MARKET_COLUMNS = (
    "记录编号", "统一社会信用代码", "主体名称", "经营场所", "许可证编号", "检查日期", "检查类型",
    "检查事项", "检查结果", "处理措施", "问题描述", "整改期限", "食品安全等级", "检查机构", "检查人员",
)  # fmt: skip


def market_row(
    record_id: str,
    on: date,
    *,
    name: str = "",
    address: str = "",
    uscc: str = "",
    item: str = "食品安全",
    result: str = "不符合",
    measure: str = "限期整改",
    problem: str = "从业人员未持健康证",
) -> dict[str, str]:
    """One row of the market regulator's export (docs/adapters.md, "Market regulation"), every column as text."""
    return {
        "记录编号": record_id,
        "统一社会信用代码": uscc,
        "主体名称": name,
        "经营场所": address,
        "许可证编号": "",
        "检查日期": on.strftime("%Y/%m/%d"),
        "检查类型": "日常检查",
        "检查事项": item,
        "检查结果": result,
        "处理措施": measure,
        "问题描述": problem if measure != "通过" else "",
        "整改期限": "",
        "食品安全等级": "",
        "检查机构": "临汾路市场监督管理所",
        "检查人员": "杨伟、杨平",
    }


async def push(client: httpx.AsyncClient, headers: dict[str, str], source: str, body: Any) -> httpx.Response:
    return await client.post(f"/api/v1/feeds/{source}/records", json=body, headers=headers)


async def push_ok(client: httpx.AsyncClient, headers: dict[str, str], source: str, body: Any) -> list[dict[str, Any]]:
    """Push and return the per-item results, asserting the request itself was accepted."""
    response = await push(client, headers, source, body)
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


async def ledger_events(client: httpx.AsyncClient, headers: dict[str, str], since: int = 0) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/events", params={"since": since, "limit": 5000}, headers=headers)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    return events


async def head_seq(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    response = await client.get("/api/v1/events", params={"since": 0, "limit": 1}, headers=headers)
    assert response.status_code == 200, response.text
    seq: int = response.json()["head_seq"]
    return seq


async def incident(client: httpx.AsyncClient, headers: dict[str, str], incident_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/v1/incidents/{incident_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
