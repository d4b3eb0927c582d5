"""Matching speed on a register of 100,000 entities (docs/targets.md: ≤ 2 ms a record).

    .venv/bin/python benchmarks/bench_matching.py [--entities N] [--queries M] [--seed S]

Generates a synthetic register — a grid of roads, shops every ~10 m along them, signboard and
registered names in the usual patterns (老王面馆, 上海市静安区王伟面馆店, chains with branch
suffixes, credit codes with valid check characters) — then times the index build and the
matching of records written the way departments write them: prefixes, floors, full-width
digits, 门前/附近, near-miss house numbers, signboard or legal name or none, crossings, GPS
noise. Prints the index build time and milliseconds per record, plus the link rate and
precision on the synthetic truth as a sanity check.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from service.matching.geo import METRES_PER_DEGREE_LAT, metres_per_degree_lng  # noqa: E402
from service.matching.matcher import EntityIndex, EntityRef, MatchQuery  # noqa: E402
from service.matching.uscc import USCC_ALPHABET, uscc_check_character  # noqa: E402

TARGET_MS = 2.0

ROAD_CHARS = "临汾岭南场中闻喜汾西阳曲共和新沪太平型关广延长大统宝山江杨万荣彭浦灵石柳营永和保德运城洛川志丹"
ROAD_SUFFIXES = ("路", "路", "路", "路", "街", "支路", "东路", "西路", "北路")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = (
    "伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
    "秀英", "海燕", "建国", "志强",
)  # fmt: skip
LUCKY = (
    "鑫源", "鑫达", "鑫旺", "鑫隆", "鑫丰", "鑫盛", "金鼎", "福满", "祥和", "宏发", "永兴", "恒通", "佳美",
    "百味", "顺发",
)  # fmt: skip
TRADES = (
    ("面馆", "餐饮管理"), ("小吃店", "餐饮管理"), ("火锅店", "餐饮管理"), ("烧烤店", "餐饮管理"),
    ("便利店", "商贸"), ("水果店", "商贸"), ("茶叶店", "商贸"), ("生鲜超市", "商贸"),
    ("理发店", "美容美发"), ("美甲店", "美容美发"), ("药房", "医药"), ("五金店", "五金交电"),
    ("洗衣店", "洗涤服务"), ("房产中介", "房地产经纪"), ("快递驿站", "物流"), ("棋牌室", "文化娱乐"),
    ("电动车行", "电动车销售"), ("奶茶店", "餐饮管理"),
)  # fmt: skip
CHAIN_BRANDS = (
    ("全家便利店", "上海福满家便利有限公司"), ("联华超市", "联华超市股份有限公司"),
    ("罗森便利店", "上海罗森便利有限公司"), ("老娘舅餐厅", "上海老娘舅餐饮有限公司"),
    ("好德便利店", "上海好德便利有限公司"),
)  # fmt: skip
FRANCHISE_NAMES = ("兰州拉面", "沙县小吃", "重庆小面", "黄焖鸡米饭", "东北饺子馆", "安徽板面")
ADDRESS_PREFIXES = ("", "", "", "上海市", "静安区", "上海市静安区", "上海")
ADDRESS_SUFFIXES = (
    "", "", "", "1楼", "一层", "底层", "101室", "门前", "东侧", "西侧", "附近", "门口人行道", "沿街商铺",
)  # fmt: skip
FULLWIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")

ORIGIN_LAT, ORIGIN_LNG = 31.20, 121.30
METRES_PER_DEG_LAT = METRES_PER_DEGREE_LAT
METRES_PER_DEG_LNG = metres_per_degree_lng(ORIGIN_LAT)


@dataclass(frozen=True, slots=True)
class Road:
    name: str
    horizontal: bool  # runs east-west
    offset_m: float  # position of the road line across the grid
    start_m: float  # where its number 1 lies along it


@dataclass(frozen=True, slots=True)
class SyntheticQuery:
    query: MatchQuery
    entity_id: str | None


def make_roads(rng: random.Random, count: int, spacing_m: float) -> list[Road]:
    names: set[str] = set()
    while len(names) < count:
        stem = "".join(rng.sample(ROAD_CHARS, 2))
        names.add(stem + rng.choice(ROAD_SUFFIXES))
    ordered = sorted(names)
    rng.shuffle(ordered)
    half = count // 2
    return [
        Road(name, horizontal=i < half, offset_m=(i % half) * spacing_m, start_m=rng.uniform(0, 200))
        for i, name in enumerate(ordered)
    ]


def make_uscc(rng: random.Random, individual: bool) -> str:
    head = ("92" if individual else "91") + "310106"
    body = "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    first17 = head + body
    return first17 + uscc_check_character(first17)


def _location(road: Road, number: int, metres_per_number: float) -> tuple[float, float]:
    along = road.start_m + number * metres_per_number
    side = 8.0 if number % 2 else -8.0  # odd numbers on one side, even on the other
    x, y = (along, road.offset_m + side) if road.horizontal else (road.offset_m + side, along)
    return ORIGIN_LAT + y / METRES_PER_DEG_LAT, ORIGIN_LNG + x / METRES_PER_DEG_LNG


def make_register(rng: random.Random, entity_count: int) -> tuple[list[EntityRef], list[Road]]:
    """A synthetic register: shops along a grid of roads with the naming patterns of real ones."""
    metres_per_number = 5.0  # both sides together: a shop every ~10 m on each side
    per_road = 800
    road_count = max(4, math.ceil(entity_count / per_road))
    roads = make_roads(rng, road_count, spacing_m=per_road * metres_per_number / road_count * 2 + 150)
    refs: list[EntityRef] = []
    for index in range(entity_count):
        road = roads[index % road_count]
        number = index // road_count + 1
        lat, lng = _location(road, number, metres_per_number)
        road_stem = road.name[:2]
        roll = rng.random()
        surname, given = rng.choice(SURNAMES), rng.choice(GIVEN)
        trade, industry = rng.choice(TRADES)
        if roll < 0.05:
            brand, company = rng.choice(CHAIN_BRANDS)
            name = f"{brand}（{road.name}店）"
            legal = f"{company}{road.name}分店"
            individual = False
        elif roll < 0.15:
            name = rng.choice(FRANCHISE_NAMES)
            legal = f"上海市静安区{surname}{given}{name}店"
            individual = True
        elif roll < 0.55:
            prefix = rng.choice(("老", "小", "阿")) + surname if rng.random() < 0.6 else surname + rng.choice("记家氏")
            name = prefix + trade
            legal = f"上海市静安区{surname}{given}{trade}"
            individual = True
        else:
            brand = rng.choice((*LUCKY, road_stem))
            name = brand + trade
            legal = f"上海{brand}{industry}有限公司"
            individual = False
        aliases: tuple[str, ...] = ()
        if rng.random() < 0.05:
            aliases = (rng.choice(("原", "老", "新")) + rng.choice(SURNAMES) + trade,)
        refs.append(
            EntityRef(
                id=f"SY-{index:06d}",
                name=name,
                legal_name=legal,
                aliases=aliases,
                uscc=make_uscc(rng, individual) if rng.random() < 0.95 else None,
                address=f"{road.name}{number}号",
                lat=lat,
                lng=lng,
            )
        )
    return refs, roads


def _written_address(rng: random.Random, road: str, number: int) -> str:
    text = f"{rng.choice(ADDRESS_PREFIXES)}{road}{number}号{rng.choice(ADDRESS_SUFFIXES)}"
    return text.translate(FULLWIDTH_DIGITS) if rng.random() < 0.1 else text


def make_queries(rng: random.Random, refs: list[EntityRef], roads: list[Road], count: int) -> list[SyntheticQuery]:
    """Records written the way departments write them, with the entity each one is about."""
    queries: list[SyntheticQuery] = []
    for _ in range(count):
        lat: float | None
        lng: float | None
        if rng.random() < 0.08:  # a crossing, about no entity
            first, second = rng.sample(roads, 2)
            lat, lng = _location(first, rng.randint(1, 400), 5.0)
            queries.append(SyntheticQuery(MatchQuery(address=f"{first.name}{second.name}路口", lat=lat, lng=lng), None))
            continue
        ref = rng.choice(refs)
        assert ref.address is not None and ref.lat is not None and ref.lng is not None
        road = ref.address[: ref.address.index(next(c for c in ref.address if c.isdigit()))]
        number = int("".join(c for c in ref.address if c.isdigit()))
        kind = rng.random()
        uscc: str | None = None
        if kind < 0.4:  # market regulator: legal name, often the code
            name: str | None = ref.legal_name if rng.random() < 0.85 else ref.name
            uscc = ref.uscc if rng.random() < 0.8 else None
            lat = lng = None
        else:  # police / city: signboard, sometimes without branch or none, GPS with noise
            name = rng.choice((ref.name, ref.name, ref.name.split("（")[0], None, *ref.aliases))
            noise = rng.gauss(0, 8) / METRES_PER_DEG_LAT
            lat, lng = (ref.lat + noise, ref.lng + noise) if rng.random() < 0.8 else (None, None)
        if rng.random() < 0.03:
            number = max(1, number + rng.choice((-4, -2, 2, 4)))  # a slip of the pen
        queries.append(
            SyntheticQuery(
                MatchQuery(name=name, address=_written_address(rng, road, number), uscc=uscc, lat=lat, lng=lng),
                ref.id,
            )
        )
    return queries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20260901)
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    started = time.perf_counter()
    refs, roads = make_register(rng, args.entities)
    queries = make_queries(rng, refs, roads, args.queries)
    generated = time.perf_counter() - started

    started = time.perf_counter()
    index = EntityIndex(refs)
    build_s = time.perf_counter() - started

    timings_ms: list[float] = []
    links = correct = about_entity = 0
    for item in queries:
        began = time.perf_counter()
        result = index.match(item.query)
        timings_ms.append((time.perf_counter() - began) * 1000)
        about_entity += item.entity_id is not None
        if result.entity_id is not None:
            links += 1
            correct += result.entity_id == item.entity_id

    timings_ms.sort()
    mean_ms = statistics.fmean(timings_ms)
    p99_ms = timings_ms[int(0.99 * (len(timings_ms) - 1))]
    print(f"register             {len(refs):,} entities on {len(roads)} roads (generated in {generated:.1f} s)")
    print(f"index build          {build_s:.2f} s ({1e6 * build_s / len(refs):.0f} µs an entity)")
    print(
        f"matching             {len(queries):,} records: {mean_ms:.3f} ms a record (p99 {p99_ms:.3f} ms)"
        f"  target ≤ {TARGET_MS} ms"
    )
    print(
        f"links                {links:,} of {about_entity:,} records about an entity"
        f" ({links / max(about_entity, 1):.1%}), precision {correct / max(links, 1):.2%}"
    )
    return 0 if mean_ms <= TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
