"""Street addresses as departments write them, reduced to road + house number (or a crossing).

Inputs look like ``上海市静安区临汾路375号1楼``, ``静安区临汾路３７５号门前``, ``临汾路380弄12号201室``,
``阳曲路临汾路路口`` or ``汾西路近岭南路``. What identifies a shop is the road and the number
on it; administrative prefixes, floors, rooms and "in front of / east of" are noise. A crossing
names a place but no building, so it never identifies an entity on its own.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from service.kit.text import remove_spaces, to_halfwidth

_CJK = "\u4e00-\u9fff\u3400-\u4dbf"

# Road suffixes, longest first inside the alternation so 大道 wins over 道.
_ROAD_SUFFIX = "(?:大道|公路|胡同|路|街|巷|里|道)"
# A road name: a few ideographs (possibly with Chinese numerals, 中山北路, 长江二路) then a suffix.
_ROAD = rf"[{_CJK}]{{1,10}}?{_ROAD_SUFFIX}"

_ARABIC_NUMBER = r"\d{1,5}"
_CHINESE_NUMBER = "[零〇一二三四五六七八九十百千两]{1,6}"
_NUMBER = rf"(?:{_ARABIC_NUMBER}|{_CHINESE_NUMBER})"
# 375号, 375-377号 (first number counts), 380弄, 380弄12号, and a bare 375 at the end or before a separator.
_ROAD_AND_NUMBER = re.compile(
    rf"(?P<road>{_ROAD})(?P<number>{_NUMBER})"
    rf"(?:(?:[-~～至到]\d+)?号(?!楼|线)|(?P<lane>弄)(?:(?P<sub>{_NUMBER})号(?!楼))?|(?=$|[,，;；/(（\s]))"
)

# Crossings: 阳曲路临汾路路口, 阳曲路与临汾路交叉口, 汾西路/岭南路, 汾西路近岭南路.
_JOIN = "(?:与|和|及|跟|同|交|、|/|&|\\+|×|x)?"
_CROSSING_WORD = "(?:路口|交叉口|交叉路口|交汇处|交界处|十字路口|丁字路口|口)"
_CROSSING = re.compile(rf"(?P<a>{_ROAD}){_JOIN}(?P<b>{_ROAD}){_CROSSING_WORD}")
_NEAR_ROAD = re.compile(rf"(?P<a>{_ROAD})(?:近|靠近|临近|靠)(?P<b>{_ROAD})")
_SLASH_ROADS = re.compile(rf"^(?P<a>{_ROAD})(?:/|、|&|与|和)(?P<b>{_ROAD})$")
_ROAD_ONLY = re.compile(rf"(?P<road>{_ROAD})")

# Words that put the problem near the numbered building rather than at it.
_APPROXIMATE_WORDS = ("附近", "对面", "斜对面", "旁边", "旁", "隔壁", "周边", "一带", "周围", "沿线")

# Administrative prefixes, removed repeatedly from the front.
_PROVINCES = (
    "北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|"
    "海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门"
)
_NOT_DISTRICT_ENDINGS = (
    "社区", "园区", "小区", "校区", "景区", "城区", "厂区", "矿区", "营区", "街区",
    "商区", "片区", "市区", "郊区", "专区", "赛区", "分区", "院区", "辖区", "库区", "超市",
)  # fmt: skip
_PREFIXES = (
    re.compile(r"^中国"),
    # 上海市 / 上海 — but not 上海路, which is a road.
    re.compile(rf"^(?:{_PROVINCES})(?:省|市|自治区|壮族自治区|回族自治区|维吾尔自治区|特别行政区)?(?![路街道巷])"),
    re.compile(rf"^[{_CJK}]{{2,4}}?市(?![路街道巷])"),
    re.compile(rf"^[{_CJK}]{{2,3}}?(?:新区|区|县)(?![路街道巷])"),
    re.compile(rf"^[{_CJK}]{{2,6}}?(?:街道|镇|乡)(?![路街道巷])"),
    re.compile(r"^[,，:：\-]"),
)
# Places inside the building: trimmed off a road candidate that swallowed them (3号楼临汾路 → 临汾路).
_INNER_PLACE_MARKERS = "号楼层室幢栋座"

_CHINESE_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_CHINESE_UNITS = {"十": 10, "百": 100, "千": 1000}


@dataclass(frozen=True, slots=True)
class ParsedAddress:
    """What an address says about place: a road and house number, or a crossing of two roads.

    ``lane`` marks a 弄 (lane) number, which is a different place from the same 号 number;
    ``sub_number`` is the 号 inside a lane (临汾路380弄12号 → 12). ``approximate`` is set by
    附近, 对面 and the like. ``crossing`` holds the two roads in sorted order, so the same
    crossing written either way compares equal.
    """

    road: str | None
    number: int | None
    crossing: tuple[str, str] | None = None
    lane: bool = False
    sub_number: int | None = None
    approximate: bool = False
    # ``临汾路375`` for a house, ``临汾路380弄`` / ``临汾路380弄12`` for a lane; None otherwise.
    # Computed once: matching reads it for every candidate.
    key: str | None = field(init=False, compare=False)

    def __post_init__(self) -> None:
        key = None
        if self.road is not None and self.number is not None:
            key = f"{self.road}{self.number}"
            if self.lane:
                key += f"弄{self.sub_number if self.sub_number is not None else ''}"
        object.__setattr__(self, "key", key)


_EMPTY = ParsedAddress(road=None, number=None)


def chinese_number_to_int(text: str) -> int | None:
    """三百七十五 → 375, 十二 → 12, 一二三 → 123 (digit by digit); None when it is not a number."""
    if not text:
        return None
    if all(char in _CHINESE_DIGITS for char in text):
        return int("".join(str(_CHINESE_DIGITS[char]) for char in text))
    total, current = 0, 0
    for char in text:
        if char in _CHINESE_DIGITS:
            current = _CHINESE_DIGITS[char]
        elif char in _CHINESE_UNITS:
            total += (current or 1) * _CHINESE_UNITS[char]
            current = 0
        else:
            return None
    return total + current


def _to_int(text: str) -> int | None:
    return int(text) if text.isdigit() else chinese_number_to_int(text)


def _clean(text: str) -> str:
    return remove_spaces(unicodedata.normalize("NFKC", to_halfwidth(text)))


def strip_admin_prefixes(text: str) -> str:
    """Removes leading 上海市, 静安区, 临汾路街道 … (in any combination) from a cleaned address."""
    changed = True
    while changed:
        changed = False
        for pattern in _PREFIXES:
            prefix = pattern.match(text)
            if prefix is None or prefix.end() == len(text) or prefix.group(0).endswith(_NOT_DISTRICT_ENDINGS):
                continue
            text, changed = text[prefix.end() :], True
    return text


def _trim_road(road: str) -> str:
    """Drops anything a road candidate swallowed before the road itself (3号楼临汾路 → 临汾路)."""
    cut = max(road.rfind(marker) for marker in _INNER_PLACE_MARKERS)
    if cut >= 0 and len(road) - cut - 1 >= 2:
        return road[cut + 1 :]
    return road


def _crossing(first: str, second: str) -> tuple[str, str] | None:
    first, second = _trim_road(first), _trim_road(second)
    if first == second:
        return None
    return (first, second) if first <= second else (second, first)


def parse_address(text: str | None) -> ParsedAddress:
    """Road and house number (or the crossing) an address names; all fields None when it names neither."""
    if not text:
        return _EMPTY
    cleaned = strip_admin_prefixes(_clean(text))
    if not cleaned:
        return _EMPTY
    approximate = any(word in cleaned for word in _APPROXIMATE_WORDS)

    numbered = _ROAD_AND_NUMBER.search(cleaned)
    if numbered is not None:
        number = _to_int(numbered.group("number"))
        if number is not None and number > 0:
            sub = numbered.group("sub")
            return ParsedAddress(
                road=_trim_road(numbered.group("road")),
                number=number,
                lane=numbered.group("lane") is not None,
                sub_number=_to_int(sub) if sub else None,
                approximate=approximate,
            )

    for pattern in (_CROSSING, _NEAR_ROAD, _SLASH_ROADS):
        crossing = pattern.search(cleaned)
        if crossing is not None:
            roads = _crossing(crossing.group("a"), crossing.group("b"))
            if roads is not None:
                return ParsedAddress(road=None, number=None, crossing=roads, approximate=True)

    road_only = _ROAD_ONLY.search(cleaned)
    if road_only is not None:
        return ParsedAddress(road=_trim_road(road_only.group("road")), number=None, approximate=True)
    return _EMPTY


def looks_like_address(text: str | None) -> bool:
    """True when the text is an address rather than a name: it starts with a road and house number."""
    if not text:
        return False
    return _ROAD_AND_NUMBER.match(strip_admin_prefixes(_clean(text))) is not None


def address_key(text: str | None) -> str | None:
    """The road + number key of an address (``临汾路375``, ``临汾路380弄``); None for crossings and vague text."""
    return parse_address(text).key


def canonical_address(parsed: ParsedAddress) -> str | None:
    """A readable normal form: ``临汾路375号``, ``临汾路380弄12号``, ``临汾路/阳曲路路口``, or the road."""
    if parsed.road is not None and parsed.number is not None:
        if parsed.lane:
            return f"{parsed.road}{parsed.number}弄" + (f"{parsed.sub_number}号" if parsed.sub_number else "")
        return f"{parsed.road}{parsed.number}号"
    if parsed.crossing is not None:
        return f"{parsed.crossing[0]}/{parsed.crossing[1]}路口"
    return parsed.road
