"""What a resident's free text says about where and whom: roads, 号 and 弄 numbers, crossings,
shop names and shop kinds ("临汾路375弄小区门口那家烧烤店").

This module only reads the text; deciding which register entity it means is linking.py's work.
Roads, names and 小区 are looked up among the ones the register knows (the caller passes them in),
so a road is found even when the text runs it into other words (靠临汾路375弄那边), and a road
with one wrong character (林汾路, 阳区路) is still the road.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from service.kit.text import to_halfwidth
from service.matching.address import chinese_number_to_int

# Shop kinds. Each trade: the words that give a register entity that kind when they are in its
# name, and the words a resident uses for it. A resident's generic word (饭店) means any of several.
TRADES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "bbq": (("烧烤",), ("烧烤店", "烧烤", "烤串", "撸串", "烤肉串")),
    "convenience": (("便利店",), ("便利店", "便利超市")),
    "supermarket": (("超市",), ("超市",)),
    "barber": (("理发", "美发"), ("理发店", "理发", "发廊", "美发店", "剃头")),
    "tobacco": (("烟杂",), ("烟杂店", "烟纸店", "小卖部", "烟酒店")),
    "hardware": (("五金",), ("五金店", "五金")),
    "hotpot": (("火锅",), ("火锅店", "火锅")),
    "tea": (("茶叶",), ("茶叶店",)),
    "chess": (("棋牌",), ("棋牌室", "麻将馆", "麻将室", "打麻将", "棋牌")),
    "snack": (("小吃",), ("小吃店", "小吃")),
    "xiaomian": (("小面",), ("小面",)),
    "lamian": (("拉面",), ("拉面",)),
    "banmian": (("板面",), ("板面",)),
    "noodle_house": (("面馆",), ()),
    "fruit": (("水果",), ("水果店", "水果摊")),
    "express": (("快递", "驿站"), ("快递驿站", "快递点", "驿站", "快递站")),
    "nails": (("美甲",), ("美甲店", "美甲")),
    "ebike": (("电动车",), ("电动车行", "电瓶车店", "修电动车", "电动车店", "车行")),
    "milk_tea": (("奶茶",), ("奶茶店", "奶茶")),
    "agency": (("中介",), ("中介", "房产中介", "房屋中介")),
    "laundry": (("洗衣",), ("洗衣店", "干洗店")),
    "restaurant": (("餐厅",), ("餐厅",)),
    "chicken": (("黄焖鸡",), ("黄焖鸡",)),
    "dumplings": (("饺子",), ("饺子馆", "饺子店")),
    "breakfast": (("早餐",), ("早餐店", "早点摊", "早饭店")),
    "pharmacy": (("药房", "药店"), ("药房", "药店")),
    "clinic": (("诊所",), ("诊所", "牙科")),
    "training": (("培训",), ("培训中心", "培训机构", "补习班")),
}
NOODLES = ("xiaomian", "lamian", "banmian", "noodle_house")
EATING = ("bbq", "hotpot", "snack", *NOODLES, "restaurant", "chicken", "dumplings", "breakfast")
# Words for several kinds: 面馆 for any noodle shop, 饭店 for any place that serves food.
GENERIC_WORDS: dict[str, tuple[str, ...]] = {
    "面馆": NOODLES,
    "面店": NOODLES,
    "饭店": EATING,
    "饭馆": EATING,
    "餐馆": EATING,
    "小饭店": EATING,
    "排档": EATING,
}
# A stall, a hawker, a shop without a licence: not what the register holds, whatever it sells.
STALL_WORDS = ("摊", "摊贩", "小贩", "流动", "无证", "黑作坊", "地摊")

TEXT_WORDS: dict[str, tuple[str, ...]] = {}
for _trade, (_, _words) in TRADES.items():
    for _word in _words:
        TEXT_WORDS.setdefault(_word, ())
        TEXT_WORDS[_word] = (*TEXT_WORDS[_word], _trade)
for _word, _trades in GENERIC_WORDS.items():
    TEXT_WORDS[_word] = _trades
_TRADE_PATTERN = re.compile("|".join(sorted(map(re.escape, TEXT_WORDS), key=len, reverse=True)))

MISSPELT_MIN = 5  # names this long or longer are found with one wrong character …
KEEP_FIRST = 2  # … after their first two

_NUMBER = r"(?P<n>\d{1,5}|[零〇一二三四五六七八九十百两]{1,6})"
_INNER = r"(?P<inner>\d{1,4}|[一二三四五六七八九十]{1,3})(?:号|支弄)"  # 380弄12号: a house inside the lane
_HOUSE = re.compile(rf"{_NUMBER}(?P<kind>号(?!楼)|弄(?:{_INNER})?)")
_HOME_AFTER = ("号楼", "幢", "栋", "室", "楼")
_LANE_ALONE = re.compile(rf"(?<![\d号])(?P<n>\d{{1,5}})弄(?:{_INNER})?")
_CROSSING_AFTER = re.compile(r"^(?:与|和|、|/|交|跟)?")
_CROSSING_WORDS = ("路口", "交叉口", "交叉路口", "十字路口", "丁字路口", "口")
_APPROXIMATE = ("左右", "附近", "旁边", "对面", "隔壁", "边上", "那边", "一带", "门口")
# A name said as a place: 小朱便利店旁边那家…, 老郭烧烤店隔壁的… (not 老郭烧烤店门口堆满纸箱).
_LANDMARK = re.compile("(?:旁边|隔壁|边上|斜对面|对面|门口|附近|楼上)(?:那家|的|那个|一家|有家|有个|开的)")
_GATE = ("门口", "旁边", "附近", "对面", "边上", "外面", "隔壁")


def trades_of_name(name: str) -> frozenset[str]:
    """The kinds of shop a register name says it is (老郭烧烤店 → bbq)."""
    return frozenset(trade for trade, (name_words, _) in TRADES.items() if any(w in name for w in name_words))


def clean_text(text: str) -> str:
    """Full-width to half-width, NFKC, no spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", to_halfwidth(text)))


@dataclass(frozen=True, slots=True)
class House:
    """A numbered place on a road: 临汾路375号 (lane False) or 临汾路375弄 (lane True)."""

    road: str
    number: int
    lane: bool
    approximate: bool  # 左右, 附近, 门口: near the number rather than at it
    home: bool = False  # a house inside a lane (380弄12号) or a block (3号楼): where the caller lives


@dataclass(slots=True)
class TextPlace:
    """Everything the text says about place and shop, in the order it says it."""

    houses: list[House] = field(default_factory=list)
    crossings: list[tuple[str, str]] = field(default_factory=list)
    roads: list[str] = field(default_factory=list)  # every road named outside the caller's home address
    estates: list[str] = field(default_factory=list)  # 小区 / 居委 the register knows, named with 门口, 旁边 …
    names: list[str] = field(default_factory=list)  # register name keys found in the text
    landmarks: list[str] = field(default_factory=list)  # those of them said as a place: 小朱便利店旁边
    trades: set[str] = field(default_factory=set)  # shop kinds named (饭店 gives several)
    specific_trade: bool = False  # a word for one kind of shop (烧烤店), not 饭店
    stall: bool = False  # 摊, 流动, 无证: not a registered shop


def _find_roads(text: str, roads: Iterable[str]) -> list[tuple[int, int, str]]:
    """(start, end, road) for each road of the register in the text, allowing one wrong character."""
    found: list[tuple[int, int, str]] = []
    taken = [False] * len(text)
    roads = sorted(roads, key=len, reverse=True)
    for road in roads:
        width = len(road)
        for start in range(len(text) - width + 1):
            if taken[start] or text[start + width - 1] != road[-1]:
                continue
            window = text[start : start + width]
            wrong = sum(a != b for a, b in zip(window, road, strict=True))
            if wrong == 0 or (wrong == 1 and width >= 3 and window[0] != "路"):
                if wrong == 1 and (any(taken[start : start + width]) or _also_like(window, road, roads)):
                    continue  # 闻西路: 闻喜路 or 汾西路? Neither.
                found.append((start, start + width, road))
                for i in range(start, start + width):
                    taken[i] = True
    found.sort()
    return found


def _also_like(window: str, road: str, roads: list[str]) -> bool:
    """True when ``window`` is one character from another road than ``road`` too."""
    return any(
        other != road and len(other) == len(window) and sum(a != b for a, b in zip(window, other, strict=True)) <= 1
        for other in roads
    )


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() else chinese_number_to_int(text)


def read_place(
    text: str,
    *,
    roads: Iterable[str],
    estates: Iterable[str],
    names: Mapping[str, object],
    misspelt: Mapping[str, str] | None = None,
) -> TextPlace:
    """What ``text`` (the order's address, then its content) says about place and shop.

    ``names`` maps each name key the register knows (cleaned, 3 characters or more) to anything;
    only the keys are read. A key found inside a longer one found at the same place is dropped.
    """
    text = clean_text(text)
    place = TextPlace()
    road_spans = _find_roads(text, roads)
    for index, (_start, end, road) in enumerate(road_spans):
        house = _HOUSE.match(text, end)
        if house is not None:
            number = _number(house.group("n"))
            if number:
                tail = text[house.end() : house.end() + 6]
                home = house.group("inner") is not None or tail.startswith(_HOME_AFTER)
                lane = house.group("kind").startswith("弄")
                place.houses.append(House(road, number, lane, any(w in tail for w in _APPROXIMATE), home))
                if not home:
                    place.roads.append(road)
            continue
        place.roads.append(road)
        following = road_spans[index + 1] if index + 1 < len(road_spans) else None
        if following is not None:
            between = text[end : following[0]]
            after = text[following[1] : following[1] + 5]
            if _CROSSING_AFTER.fullmatch(between) and after.startswith(_CROSSING_WORDS) and following[2] != road:
                place.crossings.append((road, following[2]))
    # A lane number without its road (375弄门口): the road named before it, or the first one named.
    if road_spans:
        for lane in _LANE_ALONE.finditer(text):
            if any(s <= lane.start() <= e + 1 for s, e, _ in road_spans):
                continue
            before = [r for s, _, r in road_spans if s < lane.start()]
            road = before[-1] if before else road_spans[0][2]
            home = lane.group("inner") is not None or text[lane.end() :].startswith(_HOME_AFTER)
            at_lane = House(road, int(lane.group("n")), True, True, home)
            if at_lane not in place.houses:
                place.houses.append(at_lane)
    place.estates = [
        estate for estate in estates if any(text[i + len(estate) :].startswith(_GATE) for i in _finds(text, estate))
    ]
    known = {i for start, end, _ in road_spans for i in range(start, end)}
    known |= {i for estate in estates for at in _finds(text, estate) for i in range(at, at + len(estate))}
    spans = _find_names(text, names, misspelt, known)
    place.names = list(dict.fromkeys(key for _, _, key in spans))
    place.landmarks = list(dict.fromkeys(key for _, end, key in spans if _LANDMARK.match(text, end)))
    unnamed = list(text)
    for start, end, _ in spans:  # the kind in a name is not a kind complained about (老郭烧烤店旁边那家面馆)
        unnamed[start:end] = "\x00" * (end - start)
    for match in _TRADE_PATTERN.finditer("".join(unnamed)):
        word = match.group(0)
        place.trades.update(TEXT_WORDS[word])
        place.specific_trade = place.specific_trade or word not in GENERIC_WORDS
    place.stall = any(word in text for word in STALL_WORDS)
    return place


def _finds(text: str, word: str) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(word), text)]


def _find_names(
    text: str, names: Mapping[str, object], misspelt: Mapping[str, str] | None = None, known: set[int] | None = None
) -> list[tuple[int, int, str]]:
    """(start, end, key) of the register's names in the text, longest first; with ``misspelt``
    (see ``misspellings``) also a name with one wrong character after its first two, away from the
    ``known`` positions (roads and 小区 already found: 临汾小区 is not a misspelt 临汾小吃店)."""
    lower = text.lower()
    found: list[tuple[int, int, str]] = []
    longest = max((len(key) for key in names), default=0)
    for start in range(len(lower)):
        for end in range(min(len(lower), start + longest), start + 2, -1):
            key = lower[start:end]
            if key in names:
                found.append((start, end, key))
                break
    if misspelt:
        covered = {i for start, end, _ in found for i in range(start, end)} | (known or set())
        for start in range(len(lower)):
            if start in covered:
                continue
            hit = _misspelt_at(lower, start, longest, misspelt)
            if hit is not None and not covered.intersection(range(hit[0], hit[1])):
                found.append(hit)
    return [f for f in found if not any(o != f and o[0] <= f[0] and f[1] <= o[1] for o in found)]


def _misspelt_at(text: str, start: int, longest: int, misspelt: Mapping[str, str]) -> tuple[int, int, str] | None:
    for end in range(min(len(text), start + longest), start + MISSPELT_MIN - 1, -1):
        window = text[start:end]
        for i in range(KEEP_FIRST, len(window)):
            key = misspelt.get(f"{window[:i]}\x00{window[i + 1 :]}")
            if key is not None:
                return start, end, key
    return None


def misspellings(keys: Iterable[str]) -> dict[str, str]:
    """Each key of four or more characters with one of its characters after the first two unknown
    (老郭烧?店), mapped to the key — when only one key gives it. The first two (老郭, 小朱) are what
    tells two shops of a trade apart: a different one there is another shop, not a typo."""
    variants: dict[str, str | None] = {}
    for key in keys:
        if len(key) < MISSPELT_MIN:
            continue
        for i in range(KEEP_FIRST, len(key)):
            variant = f"{key[:i]}\x00{key[i + 1 :]}"
            variants[variant] = key if variants.get(variant, key) == key else None
    return {variant: key for variant, key in variants.items() if key is not None}
