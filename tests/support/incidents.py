"""Making incidents the way departments do (pushing records), and small helpers over the HTTP API."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from service.kit.clock import utcnow

SHANGHAI = ZoneInfo("Asia/Shanghai")
API = "/api/v1"
_ids = itertools.count(1)

# `order` is due an hour after the call; `price` (消费纠纷) at the close of the 2nd working day after;
# `licence` (无证餐饮) after 4 working hours. Other categories keep the documented defaults.
SLA_RULES = {
    "order": {"amount": 1, "unit": "calendar_hours"},
    "price": {"amount": 2, "unit": "working_days"},
    "licence": {"amount": 4, "unit": "working_hours"},
}

# Entities of the sample register (service/demo/data/registry.csv): signboard name, address, grid.
XINYUAN = ("LF-000001", "鑫源快递驿站", "岭南路583号", "LF-02")
XIAOZHU = ("LF-000002", "小朱便利店", "临汾路46号", "LF-04")
CHONGQING = ("LF-000003", "重庆小面", "汾西路103号", "LF-02")

# 报警类别 → unified category (docs/adapters.md, "Police")
POLICE_CODES = {"order": ("0101", "盗窃"), "noise": ("0202", "噪声扰民"), "fire": ("0402", "火灾隐患"),
                "price": ("0602", "消费纠纷"), "other": ("0501", "群众求助")}  # fmt: skip


def local_text(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def police_call(
    entity: tuple[str, str, str, str],
    category: str = "noise",
    at: datetime | None = None,
    phone: str = "13912345678",
    call_id: str | None = None,
) -> dict[str, Any]:
    """A 警情 at an entity of the register, made by a caller whose phone number must never leak."""
    code, label = POLICE_CODES[category]
    when = at or utcnow() - timedelta(minutes=30)
    return {
        "jjdbh": call_id or f"3101062026{next(_ids):010d}",
        "bjsj": local_text(when),
        "bjtj": "110电话",
        "bjlbdm": code,
        "bjlb": label,
        "afdz": entity[2],
        "dwmc": entity[1],
        "bjnr": f"{label}，报警人电话{phone}",
        "gxdw": "临汾路派出所",
        "jqzt": "已派警",
        "bjrdh": phone,
    }


def city_case(
    entity: tuple[str, str, str, str], category_code: str = "06028", category_name: str = "噪声扰民",
    at: datetime | None = None, task_id: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A 数字城管 case at an entity (no location, so it is matched by name and address)."""
    when = (at or utcnow() - timedelta(minutes=20)).astimezone(SHANGHAI)
    return {
        "taskId": task_id or f"26T{next(_ids):09d}",
        "infoSource": "网格巡查",
        "categoryCode": category_code,
        "categoryName": category_name,
        "description": "深夜喧哗",
        "address": entity[2],
        "shopName": entity[1],
        "discoverTime": when.isoformat(timespec="seconds"),
        "deadline": (when + timedelta(days=1)).isoformat(timespec="seconds"),
        "stage": "已立案",
        "photos": [],
        "gridCode": "310106021008",
        "reporter": "监督员王芳",
    }


async def push(
    client: httpx.AsyncClient, headers: dict[str, str], source: str, *records: dict[str, Any]
) -> list[dict[str, Any]]:
    """Push records as the department does; every one must be accepted. Returns the per-record results."""
    response = await client.post(f"{API}/feeds/{source}/records", json=list(records), headers=headers)
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    assert all(r["status"] != "rejected" for r in results), results
    return results


async def open_incident(client: httpx.AsyncClient, headers: dict[str, str], record: dict[str, Any]) -> dict[str, Any]:
    """Push one police call and return the incident it opened or joined (as the operator sees it)."""
    (result,) = await push(client, headers, "police", record)
    assert result["incident_id"] is not None, result
    return {"id": result["incident_id"], "entity_id": result["entity_id"]}


async def get(client: httpx.AsyncClient, headers: dict[str, str], path: str, **params: Any) -> Any:
    response = await client.get(f"{API}{path}", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def change_status(
    client: httpx.AsyncClient, headers: dict[str, str], incident_id: int, status: str, version: int,
    note: str | None = None,
) -> httpx.Response:  # fmt: skip
    body: dict[str, Any] = {"status": status, "expected_version": version}
    if note is not None:
        body["note"] = note
    return await client.post(f"{API}/incidents/{incident_id}/status", json=body, headers=headers)


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error
