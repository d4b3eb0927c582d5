"""Department records in their native formats, made up on the spot (docs/adapters.md, "Police",
"City management")."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from service.matching.geo import wgs84_to_gcj02
from tests.browser.server import REGISTRY_CSV

SHANGHAI = ZoneInfo("Asia/Shanghai")

# 报警类别代码 → 报警类别 (every police call is a problem)
POLICE_CATEGORIES = {
    "0101": "盗窃",
    "0201": "酗酒滋事",
    "0202": "噪声扰民",
    "0301": "交通事故",
    "0302": "违法停车",
    "0401": "火灾",
    "0402": "火灾隐患",
    "0501": "群众求助",
    "0601": "邻里纠纷",
    "0602": "消费纠纷",
}
# 事项代码 → 事项名称 (a subset of the city-management table)
CITY_CATEGORIES = {
    "06010": "暴露垃圾",
    "06028": "噪声扰民",
    "06036": "乱堆杂物",
    "06041": "垃圾未分类",
    "07006": "违规牌匾标识",
    "09005": "店外经营",
    "09006": "占道经营",
    "09012": "占用消防通道",
}


@dataclass(frozen=True)
class RegisteredEntity:
    entity_id: str
    name: str
    address: str
    lat: float
    lng: float


def load_register() -> list[RegisteredEntity]:
    """The sample register's entities that have a place on the map."""
    with REGISTRY_CSV.open(encoding="utf-8-sig", newline="") as handle:
        return [
            RegisteredEntity(row["entity_id"], row["name"], row["address"], float(row["lat"]), float(row["lng"]))
            for row in csv.DictReader(handle)
            if row["lat"] and row["lng"]
        ]


def call_id() -> str:
    """A police call number no other test uses."""
    return f"BT{uuid4().hex[:16].upper()}"


def local_now(seconds_ago: float = 1.0) -> datetime:
    # A second in the past: a report time ahead of the server's clock would be refused.
    return datetime.now(SHANGHAI) - timedelta(seconds=seconds_ago)


def police_call(
    call_id: str,
    *,
    code: str,
    address: str,
    unit_name: str = "",
    content: str = "报警人称现场有纠纷",
    lat: float | None = None,
    lng: float | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """One 警情 as the police system pushes it (local time, WGS-84 when the location is known)."""
    call: dict[str, Any] = {
        "jjdbh": call_id,
        "bjsj": (at or local_now()).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
        "bjtj": "110电话",
        "bjlbdm": code,
        "bjlb": POLICE_CATEGORIES[code],
        "afdz": address,
        "dwmc": unit_name,
        "bjnr": content,
        "gxdw": "临汾路派出所",
        "jqzt": "已派警",
        "bjrdh": "13800001234",
    }
    if lat is not None and lng is not None:
        call["jd"], call["wd"] = lng, lat
    return call


def city_case(
    task_id: str,
    *,
    code: str,
    address: str,
    shop_name: str | None,
    lat: float,
    lng: float,
    at: datetime | None = None,
    stage: str = "已立案",
) -> dict[str, Any]:
    """One 数字城管 case; its location goes out in GCJ-02, as the city system sends it."""
    when = (at or local_now()).astimezone(SHANGHAI)
    gcj_lng, gcj_lat = wgs84_to_gcj02(lng, lat)
    return {
        "taskId": task_id,
        "infoSource": "网格巡查",
        "categoryCode": code,
        "categoryName": CITY_CATEGORIES[code],
        "description": f"{CITY_CATEGORIES[code]}，请处置",
        "address": address,
        "shopName": shop_name,
        "location": {"lng": round(gcj_lng, 6), "lat": round(gcj_lat, 6), "crs": "GCJ-02"},
        "discoverTime": when.isoformat(timespec="seconds"),
        "deadline": (when + timedelta(days=2)).isoformat(timespec="seconds"),
        "stage": stage,
        "photos": [],
        "gridCode": "310106021005",
        "reporter": "网格员",
    }
