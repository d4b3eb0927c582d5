"""The shipped sample feeds as native items, with their times moved so the demo looks current."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from service.formats.files import read_rows
from service.kit.clock import SHANGHAI

DATA = Path(__file__).parent / "data"


@dataclass
class SampleItem:
    source: str
    item: dict[str, Any]
    occurred_at: datetime  # aware, as the department wrote it


def _police_time(item: dict[str, Any]) -> datetime:
    return datetime.strptime(item["bjsj"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)


def _city_time(item: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(item["discoverTime"])


def _market_time(item: dict[str, Any]) -> datetime:
    return datetime.strptime(item["检查日期"], "%Y/%m/%d").replace(tzinfo=SHANGHAI)


def load_samples(data_dir: Path = DATA) -> list[SampleItem]:
    """Every sample record in time order."""
    items: list[SampleItem] = []
    for source, reader in (("police", _police_time), ("city", _city_time)):
        for line in (data_dir / f"{source}.jsonl").read_text("utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                items.append(SampleItem(source, item, reader(item)))
    rows = read_rows((data_dir / "market.csv").read_bytes(), "market.csv", None)
    for _, row in rows:
        item = {k: v for k, v in row.items() if v is not None}
        items.append(SampleItem("market", item, _market_time(item)))
    items.sort(key=lambda s: s.occurred_at)
    return items


def retimed(sample: SampleItem, at: datetime, id_suffix: str = "") -> dict[str, Any]:
    """The native item as if it had happened at ``at`` (deadlines move with it)."""
    item = dict(sample.item)
    shift = at - sample.occurred_at
    local = at.astimezone(SHANGHAI)
    if sample.source == "police":
        item["bjsj"] = local.strftime("%Y-%m-%d %H:%M:%S")
        item["jjdbh"] = item["jjdbh"] + id_suffix
    elif sample.source == "city":
        item["discoverTime"] = local.isoformat(timespec="seconds")
        if item.get("deadline"):
            item["deadline"] = (
                (datetime.fromisoformat(item["deadline"]) + shift).astimezone(SHANGHAI).isoformat(timespec="seconds")
            )
        item["taskId"] = item["taskId"] + id_suffix
    else:
        item["检查日期"] = local.strftime("%Y/%m/%d")
        if item.get("整改期限"):
            deadline = datetime.strptime(item["整改期限"], "%Y/%m/%d").replace(tzinfo=SHANGHAI) + shift
            item["整改期限"] = deadline.strftime("%Y/%m/%d")
        item["记录编号"] = item["记录编号"] + id_suffix
    return item


def split_history(items: list[SampleItem], live_fraction: float = 0.12) -> tuple[list[SampleItem], list[SampleItem]]:
    """Older records become history; the newest ones are replayed live."""
    cut = int(len(items) * (1 - live_fraction))
    return items[:cut], items[cut:]


def history_shift(history: list[SampleItem], now: datetime) -> timedelta:
    """Move history so that its last record happened a few minutes ago."""
    return (now - timedelta(minutes=5)) - history[-1].occurred_at if history else timedelta(0)
