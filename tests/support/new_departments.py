"""Sample data for the two departments that arrive as definitions (fire, health), with an answer key.

    .venv/bin/python -m tests.support.new_departments OUT_DIR [--seed N]

Made from the register (tests/data/samples/registry.csv) by a seeded random generator, shaped as
docs/adapters.md describes these departments' exports:

- ``fire.xlsx``: 消防救援's export, a title row merged across and a two-row header with merged
  cells (检查单号 merged down, 单位信息 over 单位名称/地址/统一社会信用代码); ``fire.csv`` the
  next export in GBK, the same layout, some rows of the first again with a new 复查结果
  (revisions of the same records) and new rows;
- ``health.json``: 卫生健康's pushes, BD-09 coordinates;
- ``city.jsonl`` and ``market.csv``: other departments' reports of the same problems (a blocked
  fire exit the city also reported, a canteen the market regulator also found wanting), so that
  the answer key asks for incidents that join departments;
- ``truth.csv``: ``source, source_record_id, entity_id, problem_id`` as in tests/data/samples.

Names and addresses vary as departments write them (the legal name, an alias, a branch suffix,
the district in front of the address, a missing credit code); some records are about places
not in the register (their entity is empty). Independent problems at one entity lie at least
five days apart, so every incident the key expects follows from the merging rule (same entity
and category within 72 hours) and nothing else.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl

from service.bootstrap import start_services, stop_services
from service.db.migrate import upgrade_async
from service.demo.quality import Quality, measure
from service.feeds.service import ingest_file, ingest_push
from service.formats.files import write_csv
from service.kit.clock import SHANGHAI
from service.matching.geo import wgs84_to_bd09, wgs84_to_gcj02
from service.metrics import Metrics
from service.registry.importer import import_registry_file
from service.settings import Settings
from service.state import AppState
from tests.support.data import SAMPLES

FIRE_COLUMNS = [
    "检查单号",
    "单位名称",
    "地址",
    "统一社会信用代码",
    "检查时间",
    "隐患描述",
    "隐患等级",
    "整改期限",
    "复查结果",
]
MARKET_COLUMNS = [
    "记录编号", "统一社会信用代码", "主体名称", "经营场所", "许可证编号", "检查日期", "检查类型", "检查事项",
    "检查结果", "处理措施", "问题描述", "整改期限", "食品安全等级", "检查机构", "检查人员",
]  # fmt: skip
FIRE_HAZARDS = [
    "灭火器过期",
    "疏散通道堵塞",
    "安全出口锁闭",
    "私拉电线",
    "消防栓被遮挡",
    "应急照明损坏",
    "厨房油烟管道未清洗",
]
HEALTH_PROBLEMS = {
    "food": ["留样不足", "从业人员健康证过期", "餐具消毒记录缺失", "生熟混放"],
    "licence": ["医疗废物未分类", "消毒记录缺失", "执业许可证未公示", "一次性器械重复使用"],
}
START = datetime(2026, 11, 1, 8, 0, tzinfo=SHANGHAI)  # records fall in November 2026, before the 25th
DAYS = 24
APART = timedelta(days=5)  # independent problems at one entity, so none of them merge


@dataclass(frozen=True)
class Entity:
    id: str
    kind: str
    name: str
    legal_name: str
    uscc: str
    address: str
    lat: float | None
    lng: float | None
    aliases: tuple[str, ...]


@dataclass
class Samples:
    fire_xlsx_rows: list[dict[str, Any]] = field(default_factory=list)
    fire_csv_rows: list[dict[str, Any]] = field(default_factory=list)
    health: list[dict[str, Any]] = field(default_factory=list)
    city: list[dict[str, Any]] = field(default_factory=list)
    market: list[dict[str, Any]] = field(default_factory=list)
    truth: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # key → (entity, problem)

    def write(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "fire.xlsx").write_bytes(fire_workbook(self.fire_xlsx_rows))
        (out / "fire.csv").write_bytes(fire_csv(self.fire_csv_rows))
        (out / "health.json").write_text(json.dumps(self.health, ensure_ascii=False, indent=1), "utf-8")
        (out / "city.jsonl").write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in self.city), "utf-8")
        (out / "market.csv").write_bytes(write_csv(self.market, MARKET_COLUMNS, encoding="gb18030"))
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["source", "source_record_id", "entity_id", "problem_id"])
        writer.writerows(
            [source, record_id, entity, problem] for (source, record_id), (entity, problem) in self.truth.items()
        )
        (out / "truth.csv").write_text(buffer.getvalue(), "utf-8")


def load_register(path: Path) -> list[Entity]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [
            Entity(
                row["entity_id"], row["kind"], row["name"], row["legal_name"], row["uscc"], row["address"],
                float(row["lat"]) if row["lat"] else None, float(row["lng"]) if row["lng"] else None,
                tuple(a for a in row["aliases"].split("|") if a),
            )
            for row in csv.DictReader(handle)
        ]  # fmt: skip


class _Generator:
    def __init__(self, register: list[Entity], seed: int):
        self.rng = random.Random(seed)
        self.register = register
        self.samples = Samples()
        self.busy: dict[str, list[datetime]] = {}  # entity → times of its problems so far
        self.problems = 0
        self.ids: dict[str, int] = {}

    def next_id(self, prefix: str) -> str:
        self.ids[prefix] = self.ids.get(prefix, 0) + 1
        return f"{prefix}{self.ids[prefix]:05d}"

    def new_problem(self) -> str:
        self.problems += 1
        return f"N{self.problems:05d}"

    def free_time(self, entity_id: str | None) -> datetime | None:
        """A time at least APART from every problem already at the entity (any time for no entity);
        None when the month is full there."""
        for _ in range(200):
            moment = START + timedelta(
                days=self.rng.randrange(DAYS), hours=self.rng.randrange(10), minutes=10 * self.rng.randrange(6)
            )
            if entity_id is None or all(abs(moment - other) >= APART for other in self.busy.get(entity_id, [])):
                return moment
        return None

    def claim(self, entity_id: str | None, moment: datetime) -> None:
        if entity_id is not None:
            self.busy.setdefault(entity_id, []).append(moment)

    # --- how departments write names and addresses ---------------------------------------------

    def written_name(self, entity: Entity) -> str:
        roll = self.rng.random()
        if roll < 0.15 and entity.legal_name:
            return entity.legal_name
        if roll < 0.25 and entity.aliases:
            return self.rng.choice(entity.aliases)
        if roll < 0.32:
            return f"{entity.name}（{entity.address[:3]}店）"
        return entity.name

    def written_address(self, entity: Entity) -> str:
        roll = self.rng.random()
        if roll < 0.3:
            return "上海市静安区" + entity.address
        if roll < 0.4:
            return entity.address + "一层"
        return entity.address

    # --- fire -----------------------------------------------------------------------------------

    def fire(self, count: int) -> None:
        shops = [e for e in self.register if e.kind in ("shop", "school")]
        for n in range(count):
            unregistered = self.rng.random() < 0.08
            entity = None if unregistered else self.rng.choice(shops)
            level = self.rng.choices(["一般", "重大", "无"], [0.5, 0.2, 0.3])[0]
            free = self.free_time(entity.id if entity else None) if level != "无" else self.free_time(None)
            if free is None:
                continue
            moment = free
            record_id = self.next_id("XF2026-11-")
            if entity is None:
                name, address, uscc = f"新开张小吃{n}", f"临汾路{2000 + n}号", ""
            else:
                name, address = self.written_name(entity), self.written_address(entity)
                uscc = entity.uscc if entity.uscc and self.rng.random() < 0.7 else ""
            written_time = (
                moment.strftime("%Y-%m-%d %H:%M")
                if self.rng.random() < 0.7
                else f"{moment.year}/{moment.month}/{moment.day}"
            )
            if "/" in written_time:  # only the day: local midnight is the time the service sees
                moment = moment.replace(hour=0, minute=0)
            deadline = moment + timedelta(days=14)
            row = {
                "检查单号": record_id, "单位名称": name, "地址": address, "统一社会信用代码": uscc or None,
                "检查时间": written_time, "隐患描述": self.rng.choice(FIRE_HAZARDS) if level != "无" else None,
                "隐患等级": level, "整改期限": deadline.strftime("%Y/%m/%d") if level != "无" else None,
                "复查结果": "未复查",
            }  # fmt: skip
            problem = ""
            if level != "无":
                self.claim(entity.id if entity else None, moment)
                problem = self.new_problem()
                if entity is not None and self.rng.random() < 0.2:
                    self.city_exit_blocked(entity, moment, problem)
            self.samples.truth[("fire", record_id)] = (entity.id if entity else "", problem)
            (self.samples.fire_xlsx_rows if n % 3 else self.samples.fire_csv_rows).append(row)
        # The next export repeats some rows of the first with the result of the re-inspection.
        for row in self.rng.sample(self.samples.fire_xlsx_rows, k=len(self.samples.fire_xlsx_rows) // 10):
            if row["隐患等级"] != "无":
                self.samples.fire_csv_rows.append({**row, "复查结果": self.rng.choice(["已整改", "未整改"])})

    def city_exit_blocked(self, entity: Entity, moment: datetime, problem: str) -> None:
        """城管 found the same fire hazard (占用消防通道) within hours: the same problem."""
        assert entity.lat is not None and entity.lng is not None
        lng, lat = wgs84_to_gcj02(entity.lng, entity.lat)
        task_id = self.next_id("2611X")
        seen = moment + timedelta(hours=self.rng.randrange(1, 30))
        self.samples.city.append(
            {
                "taskId": task_id, "infoSource": "监督员上报", "categoryCode": "09012", "categoryName": "占用消防通道",
                "description": "杂物堵塞消防通道", "address": entity.address, "shopName": entity.name,
                "location": {"lng": round(lng, 6), "lat": round(lat, 6), "crs": "GCJ-02"},
                "discoverTime": seen.isoformat(timespec="seconds"), "stage": "已立案", "photos": [],
            }
        )  # fmt: skip
        self.samples.truth[("city", task_id)] = (entity.id, problem)

    # --- health ---------------------------------------------------------------------------------

    def health(self, rounds: int) -> None:
        institutions = [(e, kind) for e in self.register if (kind := institution_type(e))]
        for _ in range(rounds):
            for entity, kind in institutions:
                self.health_inspection(entity, kind)
        for n in range(len(institutions) // 5):  # institutions the register does not hold
            self.health_inspection(None, "诊所", name=f"仁心私人诊所{n}", where=(31.2900 + 0.0011 * n, 121.4300))

    def health_inspection(
        self, entity: Entity | None, kind: str, *, name: str = "", where: tuple[float, float] | None = None
    ) -> None:
        result = self.rng.choices(["合格", "不合格", "责令整改"], [0.45, 0.4, 0.15])[0]
        free = self.free_time(entity.id if entity else None)
        if free is None:
            return
        moment = free.replace(hour=0, minute=0)
        record_id = self.next_id("WS2026-")
        if entity is not None:
            name = entity.name + ("食堂" if kind == "学校食堂" and self.rng.random() < 0.3 else "")
            where = (entity.lat, entity.lng) if entity.lat is not None and entity.lng is not None else None
        problems = HEALTH_PROBLEMS["food" if kind == "学校食堂" else "licence"]
        item: dict[str, Any] = {
            "监督编号": record_id, "机构名称": name, "机构类别": kind,
            "地址": self.written_address(entity) if entity else f"汾西路{3000 + self.ids['WS2026-']}号",
            "监督日期": moment.date().isoformat(), "监督结果": result,
            "问题描述": self.rng.choice(problems) if result != "合格" else "",
        }  # fmt: skip
        if where is not None:
            jitter_lat, jitter_lng = (self.rng.uniform(-0.00008, 0.00008) for _ in range(2))
            lng, lat = wgs84_to_bd09(where[1] + jitter_lng, where[0] + jitter_lat)
            item["经度"], item["纬度"] = round(lng, 6), round(lat, 6)
        problem = ""
        if result != "合格":
            self.claim(entity.id if entity else None, moment)
            problem = self.new_problem()
            if entity is not None and kind == "学校食堂" and self.rng.random() < 0.5:
                self.market_canteen(entity, moment.date(), problem)
        self.samples.health.append(item)
        self.samples.truth[("health", record_id)] = (entity.id if entity else "", problem)

    def market_canteen(self, entity: Entity, day: date, problem: str) -> None:
        """市场监管 inspected the same canteen the same day and found it wanting: the same food problem."""
        record_id = self.next_id("JA20261114")
        self.samples.market.append(
            {
                "记录编号": record_id, "统一社会信用代码": entity.uscc or None, "主体名称": entity.name,
                "经营场所": entity.address, "检查日期": day.strftime("%Y/%m/%d"), "检查类型": "专项检查",
                "检查事项": "食品安全", "检查结果": "不符合", "处理措施": "限期整改", "问题描述": "留样不足",
                "整改期限": (day + timedelta(days=7)).strftime("%Y/%m/%d"),
            }
        )  # fmt: skip
        self.samples.truth[("market", record_id)] = (entity.id, problem)


def institution_type(entity: Entity) -> str | None:
    """What 卫生健康 calls the institution, from its name; None for what it does not inspect."""
    if "诊所" in entity.name or "门诊部" in entity.name:
        return "诊所" if "诊所" in entity.name else "医院"
    if "卫生服务" in entity.name:
        return "社区卫生服务中心"
    if "幼儿园" in entity.name:
        return "托幼机构"
    if "小学" in entity.name or "中学" in entity.name:
        return "学校食堂"
    return None


def fire_header_rows() -> Iterator[list[Any]]:
    yield ["某区消防救援支队 消防监督检查记录（2026年11月）"] + [None] * 8
    yield ["检查单号", "单位信息", None, None, "检查时间", "隐患描述", "隐患等级", "整改期限", "复查结果"]
    yield [None, "单位名称", "地址", "统一社会信用代码", None, None, None, None, None]


def fire_workbook(rows: list[dict[str, Any]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "检查记录"
    for header in fire_header_rows():
        sheet.append(header)
    for row in rows:
        sheet.append([row[column] for column in FIRE_COLUMNS])
    sheet.merge_cells("A1:I1")
    sheet.merge_cells("B2:D2")
    for column in "AEFGHI":
        sheet.merge_cells(f"{column}2:{column}3")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def fire_csv(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for header in fire_header_rows():
        writer.writerow(["" if cell is None else cell for cell in header])
    for row in rows:
        writer.writerow(["" if row[column] is None else row[column] for column in FIRE_COLUMNS])
    return buffer.getvalue().encode("gb18030")


def generate(register_csv: Path, seed: int = 14, fire_rows: int = 360, health_rounds: int = 5) -> Samples:
    """The samples and their answer key; the same seed gives the same files."""
    generator = _Generator(load_register(register_csv), seed)
    generator.fire(fire_rows)
    generator.health(health_rounds)
    return generator.samples


async def measure_generated(out: Path, register_csv: Path) -> tuple[Quality, dict[str, list[str]], AppState]:
    """Load the register and the written samples into a fresh embedded service through each
    department's own path, and measure linking and merging against the answer key.

    Returns the figures, the rejections by file, and the service (stopped; its database is gone).
    """
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url="", redis_url="", sla_check_interval_s=0)
        await upgrade_async(settings.effective_database_url)
        state = await start_services(settings, Metrics())
        try:
            rejected = await load_generated(state, out, register_csv)
            return await measure(state, out / "truth.csv"), rejected, state
        finally:
            await stop_services(state)


async def load_generated(state: AppState, out: Path, register_csv: Path) -> dict[str, list[str]]:
    """The register, then each department's files by its own path; the rejection reasons by file."""
    register = _read_bytes(register_csv)
    await import_registry_file(state.db, register, "registry.csv")
    await state.resolver.refresh_now(state.db)

    def read(name: str) -> bytes:
        return _read_bytes(out / name)

    city_items = [json.loads(line) for line in read("city.jsonl").decode().splitlines()]
    reports = {
        "fire.xlsx": await ingest_file(state, "fire", "department:fire", read("fire.xlsx"), "fire.xlsx", None),
        "fire.csv": await ingest_file(state, "fire", "department:fire", read("fire.csv"), "fire.csv", None),
        "health.json": await ingest_push(state, "health", "department:health", json.loads(read("health.json"))),
        "city.jsonl": await ingest_push(state, "city", "department:city", city_items),
        "market.csv": await ingest_file(state, "market", "import", read("market.csv"), "market.csv", None),
    }
    return {name: [str(r.errors) for r in report.results if r.status == "rejected"] for name, report in reports.items()}


def _read_bytes(path: Path) -> bytes:
    return path.read_bytes()  # small files: reading them blocks the loop for microseconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    samples = generate(SAMPLES / "registry.csv", args.seed)
    samples.write(args.out)
    print(f"wrote {len(samples.truth)} records with their answer key to {args.out}")


if __name__ == "__main__":
    main()
