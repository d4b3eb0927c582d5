"""12345 work orders with an answer key: which register entity each order is about, or none.

Generated from the sample register (service/demo/data/registry.csv), deterministic for a seed. The
orders are written the way callers and operators write them, and the key is what the caller meant,
not what a matcher could find: a shop named by a name three shops share, or a kind of shop on a
street with several of that kind, is still about one shop — the linker is expected *not* to link
those (they cost recall, never precision).

Cases (``LabelledOrder.case``), by share of the orders:

- ``name_address`` 14 %: the shop's name in the text and its address, exact or a few numbers off;
- ``name_only`` 8 %: the shop's name, with the caller's own lane or 小区 or nothing as the address;
- ``kind_exact`` 14 %: a kind of shop (那家烧烤店, 饭店) at its exact 号 address;
- ``kind_near`` 16 %: a kind of shop near a number: 375弄门口, 330号左右, 附近;
- ``kind_landmark`` 7 %: a kind of shop beside another shop the caller names (小朱便利店旁边那家烧烤店);
- ``address_only`` 8 %: only the shop's address and what it does (晚上很吵), no shop named;
- ``residential`` 15 %: the caller's own building or estate (电梯, 物业, 群租, 违建, 停车): none;
- ``stall`` 8 %: a hawker or stall near shops of the same kind: none;
- ``unregistered`` 10 %: a kind of shop at a place where the register has none of that kind: none.

Roughness on top: a road with one wrong character of the same sound (林汾路), numbers in Chinese
or full-width digits, a name with one wrong character (老郭烧考店), the caller's name and number in
the text, and 诉求类型 sometimes given.
"""

from __future__ import annotations

import csv
import math
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from service.feeds.definitions import shipped_definitions
from service.feeds.definitions.adapter import DefinitionAdapter
from service.feeds.resolver import EntityResolver
from service.matching.contract import EntityRef

REGISTRY = Path(__file__).resolve().parents[2] / "service" / "demo" / "data" / "registry.csv"

# The resident's words for each kind of shop, by a word in the register's name.
KIND_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("烧烤", ("烧烤店", "烧烤", "烤串店")),
    ("便利店", ("便利店",)),
    ("超市", ("超市",)),
    ("理发", ("理发店", "发廊")),
    ("烟杂", ("烟杂店", "烟纸店", "小卖部")),
    ("五金", ("五金店",)),
    ("火锅", ("火锅店", "饭店")),
    ("茶叶", ("茶叶店",)),
    ("棋牌", ("棋牌室", "麻将馆")),
    ("小吃", ("小吃店", "饭店")),
    ("小面", ("面馆", "小面店", "饭店")),
    ("拉面", ("拉面店", "面馆", "饭店")),
    ("板面", ("板面店", "面馆")),
    ("面馆", ("面馆", "饭馆")),
    ("水果", ("水果店",)),
    ("快递", ("快递驿站", "快递点")),
    ("美甲", ("美甲店",)),
    ("电动车", ("电动车行", "电瓶车店")),
    ("奶茶", ("奶茶店",)),
    ("中介", ("中介", "房产中介")),
    ("洗衣", ("洗衣店", "干洗店")),
    ("餐厅", ("餐厅", "饭店")),
    ("黄焖鸡", ("黄焖鸡", "饭店")),
    ("饺子", ("饺子馆", "饭店")),
    ("早餐", ("早餐店", "早点摊子")),
    ("药房", ("药房", "药店")),
)
PROBLEMS: dict[str, tuple[str, ...]] = {
    "noise": ("晚上吵得睡不着", "音响开到半夜", "凌晨还在大声喧哗", "空调外机噪音很大"),
    "fumes": ("油烟直排，熏得窗户都不敢开", "油烟很大，楼上全是味道", "排烟管道对着居民窗户"),
    "street_vending": ("桌子摆到人行道上", "占道经营，行人只能走马路", "货摆到店门外面占了人行道"),
    "food": ("卖的东西吃了拉肚子", "后厨卫生很差，苍蝇乱飞", "卖过期食品"),
    "fire": ("电动车在店里充电", "门口堆满纸箱，消防通道堵了", "煤气罐放在门口"),
    "price": ("缺斤短两", "价格不明码标价", "乱收费"),
    "licence": ("没有营业执照还在经营", "无照经营好几个月了"),
    "garbage": ("垃圾乱倒在路边", "泔水倒进窨井"),
}
RESIDENTIAL: dict[str, tuple[str, ...]] = {
    "elevator": ("电梯老是坏，老人上不了楼", "电梯困人好几次了"),
    "property": ("物业不管事，楼道灯坏了没人修", "物业乱收停车费"),
    "group_rental": ("楼上一套房子住了十几个人，群租", "隔壁群租，进进出出很乱"),
    "illegal_building": ("一楼住户违章搭建，占了绿化", "顶楼加盖了一层违建"),
    "parking": ("车子乱停，消防通道都堵了", "僵尸车占着车位好几个月"),
}
STALL_TEXTS = ("路边有流动摊贩卖{kind}", "晚上有人在路边摆摊卖{kind}", "无证摊贩在门口卖{kind}")
STALL_KINDS = ("烧烤", "水果", "早点", "炸串")
ROAD_TYPOS = {"临": "林", "汾": "芬", "阳": "杨", "曲": "区", "岭": "领", "喜": "西", "场": "厂", "西": "希"}
NAME_TYPOS = {"烤": "考", "便": "变", "记": "纪", "店": "点", "家": "加", "鑫": "新", "馆": "管", "理": "里"}
CHINESE_DIGITS = "零一二三四五六七八九"
PLACE_WORDS = ("门口", "旁边", "附近", "边上", "对面")
SHARES: tuple[tuple[str, float], ...] = (
    ("name_address", 0.14),
    ("name_only", 0.08),
    ("kind_exact", 0.14),
    ("kind_near", 0.16),
    ("kind_landmark", 0.07),
    ("address_only", 0.08),
    ("residential", 0.15),
    ("stall", 0.08),
    ("unregistered", 0.10),
)


@dataclass(frozen=True, slots=True)
class Shop:
    id: str
    name: str
    road: str
    number: int
    community: str
    lat: float
    lng: float
    kind_words: tuple[str, ...]  # the resident's words for it; empty for kinds residents have no word for


@dataclass(frozen=True, slots=True)
class LabelledOrder:
    order: dict[str, Any]  # the work order as the hotline pushes it
    entity_id: str | None  # what it is about, or None: nothing in the register
    case: str


def load_shops(path: Path = REGISTRY) -> list[Shop]:
    shops = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            address = re.fullmatch(r"(.+?路)(\d+)号", row["address"])
            if address is None:
                continue
            words = next((w for key, w in KIND_WORDS if key in row["name"]), ())
            shops.append(
                Shop(
                    row["entity_id"],
                    re.sub(r"（.*?）", "", row["name"]),
                    address.group(1),
                    int(address.group(2)),
                    row["community"],
                    float(row["lat"]),
                    float(row["lng"]),
                    words,
                )
            )
    return shops


def _metres(a: Shop, b: Shop) -> float:
    dy = (a.lat - b.lat) * 111_195
    dx = (a.lng - b.lng) * 111_195 * math.cos(math.radians(a.lat))
    return math.hypot(dx, dy)


GENERIC_KINDS = {"饭店": "eating", "饭馆": "eating", "面馆": "noodles"}
EATING = ("烧烤", "火锅", "小吃", "小面", "拉面", "板面", "面馆", "餐厅", "黄焖鸡", "饺子", "早餐")


def _could_be(shop: Shop, word: str) -> bool:
    """Whether a resident could call ``shop`` ``word`` (面馆 is any noodle shop, 饭店 any eating place)."""
    if word in shop.kind_words:
        return True
    family = GENERIC_KINDS.get(word)
    if family == "eating":
        return any(key in shop.name for key in EATING)
    return family == "noodles" and any(key in shop.name for key in ("小面", "拉面", "板面", "面馆"))


class _Writer:
    def __init__(self, shops: list[Shop], rng: random.Random) -> None:
        self.shops, self.rng = shops, rng
        self.named = [s for s in shops if s.kind_words]
        self.roads = sorted({s.road for s in shops})

    def road(self, road: str) -> str:
        if self.rng.random() < 0.12:
            spots = [i for i, ch in enumerate(road[:-1]) if ch in ROAD_TYPOS]
            if spots:
                i = self.rng.choice(spots)
                return road[:i] + ROAD_TYPOS[road[i]] + road[i + 1 :]
        return road

    def number(self, number: int) -> str:
        roll = self.rng.random()
        if roll < 0.08:
            return "".join(CHINESE_DIGITS[int(d)] for d in str(number))
        if roll < 0.16:
            return "".join(chr(ord(d) + 0xFEE0) for d in str(number))
        return str(number)

    def name(self, shop: Shop) -> str:
        if self.rng.random() < 0.1:
            spots = [i for i, ch in enumerate(shop.name) if ch in NAME_TYPOS]
            if spots:
                i = self.rng.choice(spots)
                return shop.name[:i] + NAME_TYPOS[shop.name[i]] + shop.name[i + 1 :]
        return shop.name

    def home(self) -> str:
        """The caller's own address: a lane house or a building in a 小区."""
        if self.rng.random() < 0.5:
            return (
                f"{self.road(self.rng.choice(self.roads))}{self.rng.randint(1, 99) * 10}弄{self.rng.randint(1, 60)}号"
            )
        return f"{self.rng.choice(sorted({s.community for s in self.shops}))}{self.rng.randint(1, 40)}号楼"

    def problem(self) -> tuple[str, str]:
        theme = self.rng.choice(sorted(PROBLEMS))
        return theme, self.rng.choice(PROBLEMS[theme])


def _order(rng: random.Random, number: int, when: datetime, address: str, text: str) -> dict[str, Any]:
    caller = rng.choice(("王秀英", "李建国", "张伟", "陈静", "刘洋"))
    phone = f"139{rng.randrange(10**8):08d}"
    if rng.random() < 0.2:
        text = f"我是{caller}，{text}，联系电话{phone}"
    order: dict[str, Any] = {
        "工单编号": f"12345-{when:%Y%m%d}-{number:05d}",
        "来电时间": f"{when:%Y-%m-%d %H:%M:%S}",
        "诉求内容": text,
        "诉求地址": address,
        "来电人": caller,
        "来电号码": phone,
        "办理时限": f"{when + timedelta(days=5):%Y-%m-%d} 17:00:00",
    }
    if rng.random() < 0.3:
        order["诉求类型"] = rng.choice(("投诉", "求助", "建议", "咨询"))
    return order


def _labelled(w: _Writer, case: str) -> tuple[str, str, str | None]:
    """(address, text, entity id) for one order of ``case``."""
    rng = w.rng
    shop = rng.choice(w.named)
    kind = rng.choice(shop.kind_words)
    _, problem = w.problem()
    where = rng.choice(PLACE_WORDS)
    if case == "name_address":
        off = rng.choice((0, 0, 0, 2, -2, 4))
        address = f"{w.road(shop.road)}{w.number(max(1, shop.number + off))}号"
        return address, rng.choice((f"{w.name(shop)}{problem}", f"投诉{w.name(shop)}，{problem}")), shop.id
    if case == "name_only":
        address = rng.choice((w.home(), f"{w.road(shop.road)}上", ""))
        return address, f"{w.name(shop)}{problem}", shop.id
    if case == "kind_exact":
        address = f"{w.road(shop.road)}{w.number(shop.number)}号"
        return address, rng.choice((f"楼下{kind}{problem}", f"这家{kind}{problem}", f"{kind}{problem}")), shop.id
    if case == "kind_near":
        off = rng.randint(-6, 6)
        form = rng.randrange(3)
        if form == 0:
            address = f"{w.road(shop.road)}{w.number(max(1, shop.number + off))}弄{where}那家{kind}"
            text = f"那家{kind}{problem}"
        elif form == 1:
            address = f"{w.road(shop.road)}{w.number(max(1, shop.number + off))}号左右"
            text = f"那家{kind}{problem}"
        else:
            address = w.home()
            text = f"{w.road(shop.road)}{w.number(max(1, shop.number + off))}号{where}的{kind}{problem}"
        return address, text, shop.id
    if case == "kind_landmark":
        landmarks = [
            s
            for s in w.named
            if s.id != shop.id and not set(s.kind_words) & set(shop.kind_words) and _metres(s, shop) <= 40
        ]
        if not landmarks:
            return _labelled(w, "kind_exact")
        landmark = rng.choice(landmarks)
        return w.home(), f"{landmark.name}{rng.choice(('旁边', '隔壁', '边上'))}那家{kind}{problem}", shop.id
    if case == "address_only":
        return f"{w.road(shop.road)}{w.number(shop.number)}号", rng.choice((problem, f"这里{problem}")), shop.id
    if case == "residential":
        theme = rng.choice(sorted(RESIDENTIAL))
        return w.home(), rng.choice(RESIDENTIAL[theme]), None
    if case == "stall":
        text = rng.choice(STALL_TEXTS).format(kind=rng.choice(STALL_KINDS))
        return f"{w.road(shop.road)}{w.number(shop.number)}号{where}", f"{text}，{problem}", None
    # unregistered: a kind of shop where the register has none a resident would call so within 300 m.
    for _ in range(50):
        spot = rng.choice(w.shops)
        if not any(_could_be(other, kind) and _metres(other, spot) <= 300 for other in w.named):
            break
    else:
        return _labelled(w, "residential")
    off = rng.choice((0, 1, -1, 3))
    opening = rng.choice(("新开的那家", "那家", "一家", ""))
    return f"{w.road(spot.road)}{w.number(max(1, spot.number + off))}号", f"{opening}{kind}{problem}", None


def generate_orders(count: int, seed: int, start: datetime | None = None) -> list[LabelledOrder]:
    """``count`` labelled work orders, the same for the same seed, over a day from ``start``."""
    rng = random.Random(f"hotline-orders:{seed}")
    writer = _Writer(load_shops(), rng)
    start = start or datetime(2026, 11, 20, 8, 0)
    cases, weights = zip(*SHARES, strict=True)
    orders = []
    for number in range(1, count + 1):
        case = rng.choices(cases, weights)[0]
        address, text, entity_id = _labelled(writer, case)
        when = start + timedelta(seconds=rng.randrange(86_400))
        orders.append(LabelledOrder(_order(rng, number, when, address, text), entity_id, case))
    return orders


@dataclass
class LinkingReport:
    orders: int = 0
    about_an_entity: int = 0
    links: int = 0
    correct: int = 0
    by_case: dict[str, Counter[str]] = field(default_factory=dict)
    wrong: list[tuple[LabelledOrder, str | None, float]] = field(default_factory=list)
    missed: list[tuple[LabelledOrder, float]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.correct / self.links if self.links else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.about_an_entity if self.about_an_entity else 1.0


def register_refs(path: Path = REGISTRY) -> list[EntityRef]:
    """The sample register as the resolver indexes it (service/feeds/resolver.py entity_ref)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [
            EntityRef(
                id=row["entity_id"],
                name=row["name"],
                legal_name=row["legal_name"] or None,
                aliases=tuple(a for a in (row["aliases"] or "").split("|") if a),
                uscc=row["uscc"] or None,
                address=row["address"] or None,
                lat=float(row["lat"]) if row["lat"] else None,
                lng=float(row["lng"]) if row["lng"] else None,
                community=row["community"] or None,
            )
            for row in csv.DictReader(handle)
        ]


def hotline_resolver() -> tuple[DefinitionAdapter, EntityResolver]:
    """The hotline's shipped definition and a resolver over the sample register, as the service has them."""
    [definition] = [d for d in shipped_definitions() if d.source == "hotline"]
    resolver = EntityResolver()
    for ref in register_refs():
        resolver.index.add(ref)
    return DefinitionAdapter(definition), resolver


def measure_linking(orders: list[LabelledOrder]) -> LinkingReport:
    """Each order read by the hotline's definition (its hook classifies it), then linked by the resolver."""
    adapter, resolver = hotline_resolver()
    report = LinkingReport()
    for labelled in orders:
        record = adapter.parse(labelled.order)
        result = resolver.match(record)
        report.orders += 1
        counts = report.by_case.setdefault(labelled.case, Counter())
        counts["orders"] += 1
        if labelled.entity_id is not None:
            report.about_an_entity += 1
        if result.entity_id is not None:
            report.links += 1
            counts["links"] += 1
            if result.entity_id == labelled.entity_id:
                report.correct += 1
                counts["correct"] += 1
            else:
                report.wrong.append((labelled, result.entity_id, result.score))
        elif labelled.entity_id is not None:
            report.missed.append((labelled, result.score))
    return report
