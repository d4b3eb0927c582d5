"""Department records in their native formats, and the raw caller phones of the police sample."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.support.data import SAMPLES

SHANGHAI = ZoneInfo("Asia/Shanghai")
BASE = datetime(2026, 10, 5, 9, 0, tzinfo=SHANGHAI)  # in the past, so no record is "from the future"


def at(minutes: float) -> datetime:
    return BASE + timedelta(minutes=minutes)


def police_call(call_id: str, when: datetime | None = None, **fields: Any) -> dict[str, Any]:
    """A 警情 as the police system pushes it (docs/adapters.md, "Police"); ``fields`` override any field."""
    call: dict[str, Any] = {
        "jjdbh": call_id,
        "bjsj": (when or BASE).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
        "bjtj": "110电话",
        "bjlbdm": "0202",
        "bjlb": "噪声扰民",
        "afdz": "临汾路46号",
        "dwmc": "",
        "bjnr": "深夜施工噪声",
        "gxdw": "临汾路派出所",
        "jqzt": "待派警",
        "bjrdh": "13912345678",
        "jd": 121.444758,
        "wd": 31.301223,
    }
    call.update(fields)
    return call


def city_case(task_id: str, when: datetime | None = None, **fields: Any) -> dict[str, Any]:
    """A 数字城管 case as the city system pushes it (docs/adapters.md, "City management")."""
    moment = (when or BASE).astimezone(SHANGHAI)
    case: dict[str, Any] = {
        "taskId": task_id,
        "infoSource": "监督员上报",
        "categoryCode": "06010",
        "categoryName": "暴露垃圾",
        "description": "门前垃圾堆放",
        "address": "汾西路103号",
        "shopName": None,
        "location": {"lng": 121.455868, "lat": 31.299512, "crs": "GCJ-02"},
        "discoverTime": moment.isoformat(),
        "deadline": (moment + timedelta(days=2)).isoformat(),
        "stage": "已立案",
        "photos": [],
        "gridCode": "310106021008",
        "reporter": "监督员郭艳",
    }
    case.update(fields)
    return case


def market_item(record_id: str, **fields: Any) -> dict[str, Any]:
    """One inspection record with the export's Chinese field names, as a JSON push.

    (docs/adapters.md, "Market regulation")
    """
    item: dict[str, Any] = {
        "记录编号": record_id,
        "统一社会信用代码": "",
        "主体名称": "重庆小面",
        "经营场所": "汾西路103号",
        "检查日期": "2026/10/05",
        "检查类型": "日常检查",
        "检查事项": "食品安全",
        "检查结果": "不符合",
        "处理措施": "限期整改",
        "问题描述": "从业人员未持健康证",
    }
    item.update(fields)
    return item


def sample_police_calls(limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` calls of the police sample, with their real-looking caller phones."""
    with (SAMPLES / "police.jsonl").open(encoding="utf-8") as lines:
        calls = [json.loads(line) for line, _ in zip(lines, range(limit), strict=False)]
    return calls


def raw_phones(calls: list[dict[str, Any]]) -> set[str]:
    return {str(call["bjrdh"]) for call in calls if call.get("bjrdh")}
