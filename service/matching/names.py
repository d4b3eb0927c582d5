"""Entity names: normalisation and the keys by which an entity can be found.

A Chinese business name is usually ``[region][brand][trade][organisation form][branch]``:
上海市静安区 | 何娟 | 重庆小面 | 店, 上海 | 鑫源 | 物流 | 有限公司, 联华超市 | 股份有限公司 | 共和新路分店.
Departments write the same business with or without the region, the organisation form and
the branch, and with any mix of full-width and ASCII brackets, so an entity is indexed under
several keys: the full cleaned name, the name without its branch, and the core without region
and organisation form. A query name goes through the same function, so both sides agree.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_CJK = "\u4e00-\u9fff\u3400-\u4dbf"
# Everything that is not a letter (any script) or a digit is punctuation or space to a name.
_NOT_NAME_CHAR = re.compile(r"[\W_]+")
_OPEN = "(\\[{<（【〔［｛〈《「『"
_CLOSE = ")\\]}>）】〕］｝〉》」』"
# A bracketed group at the very end; the closing bracket may be missing (truncated input).
_TRAILING_BRACKET_GROUP = re.compile(rf"[{_OPEN}][^{_OPEN}{_CLOSE}]*[{_CLOSE}]?\s*$")

# A name needs at least this many characters to stay a name once a branch or a form is cut off.
MIN_NAME_CHARS = 2

# What clerks type when they do not know the name; such a "name" says nothing about the entity.
PLACEHOLDER_NAMES = frozenset(
    {
        "无", "暂无", "没有", "不详", "未知", "不明", "待查", "空", "其他", "其它", "个人", "个体", "个体户",
        "无名", "无名店", "无店名", "无招牌", "路人", "居民", "群众", "商户", "店铺", "null", "none", "na", "nil",
    }
)  # fmt: skip

# A branch's place: a road (临汾路, 共和新路, 中山北路 — two ideographs, maybe a direction, then 路)
# or, before 分店, a two-ideograph place (临汾分店).
_ROAD_PLACE = rf"[{_CJK}]{{2}}[东西南北中新支]?(?:大道|公路|路|街)"
_BRANCH_PATTERNS = (
    re.compile(rf"(?:{_ROAD_PLACE}|[{_CJK}]{{2}})(?:分店|分公司|分部|营业部|门市部)$"),
    re.compile(rf"{_ROAD_PLACE}店$"),
    re.compile(r"第?[0-9一二三四五六七八九十百]+(?:号店|分店)$"),
)
# A company name with its form followed by more text: the rest is a branch (…有限公司闻喜路店).
_FORM_THEN_BRANCH = re.compile(r"^(.{2,}?(?:有限责任公司|有限公司))(.{2,})$")

# Organisation forms, longest first so 股份有限公司 is cut whole.
_ORGANISATION_FORMS = (
    "股份有限公司",
    "有限责任公司",
    "股份合作公司",
    "有限公司",
    "集团公司",
    "合伙企业",
    "个人独资企业",
    "个体工商户",
    "集团",
    "公司",
    "经营部",
    "门市部",
    "营业部",
    "服务部",
    "商行",
    "商店",
    "店",
)
_COMPANY_FORMS = ("公司", "企业", "集团")

# Provinces and municipalities are named explicitly: a bare "XX市" pattern would eat 联华超市.
_PROVINCES = (
    "北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|"
    "海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门"
)
_ADMIN_SUFFIX = "(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)"
_PROVINCE_WITH_SUFFIX = re.compile(rf"^(?:中国)?(?:{_PROVINCES}){_ADMIN_SUFFIX}")
# Without 市/省 a province name is only a prefix in a registered company name (上海鑫源物流有限公司);
# in a signboard it is part of the name (重庆小面, 北京烤鸭).
_BARE_PROVINCE = re.compile(rf"^(?:中国)?(?:{_PROVINCES})")
# A district or county: two or three ideographs then 区/县/新区, but not 社区, 园区, 小区 and the like.
_DISTRICT_PREFIX = re.compile(rf"^[{_CJK}]{{2,3}}?(?:新区|区|县)")
_NOT_DISTRICT_ENDINGS = (
    "社区", "园区", "小区", "校区", "景区", "城区", "厂区", "矿区", "营区", "街区",
    "商区", "片区", "市区", "郊区", "专区", "赛区", "分区", "院区", "辖区", "库区",
)  # fmt: skip


def clean_name(text: str) -> str:
    """The name folded for comparison: NFKC (full-width → ASCII), lower case, no spaces or punctuation."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return _NOT_NAME_CHAR.sub("", folded)


def _strip_trailing_brackets(text: str) -> str:
    """Removes bracketed qualifiers at the end — （临汾路店）, (普通合伙) — while a name remains."""
    while True:
        match = _TRAILING_BRACKET_GROUP.search(text)
        if match is None:
            return text
        remainder = text[: match.start()].rstrip()
        if len(clean_name(remainder)) < MIN_NAME_CHARS:
            return text
        text = remainder


def _strip_branch_words(name: str) -> str:
    """Cuts an unbracketed branch designation off a cleaned name when a name remains."""
    form_then_branch = _FORM_THEN_BRANCH.match(name)
    if form_then_branch is not None:
        return form_then_branch.group(1)
    for pattern in _BRANCH_PATTERNS:
        match = pattern.search(name)
        if match is not None and match.start() >= MIN_NAME_CHARS:
            return name[: match.start()]
    return name


def normalize_name(text: str) -> str:
    """The name as a comparison key: folded, without punctuation and without a trailing branch suffix.

    ``全家便利店（临汾路店）`` → ``全家便利店``; ``上海福满家便利有限公司闻喜路分店`` →
    ``上海福满家便利有限公司``; ``ＡＢＣ　Café`` → ``abccafé``.
    """
    unbracketed = _strip_trailing_brackets(unicodedata.normalize("NFKC", text).strip())
    cleaned = clean_name(unbracketed)
    return _strip_branch_words(cleaned) if cleaned else clean_name(text)


def _is_company_name(name: str) -> bool:
    return any(form in name for form in _COMPANY_FORMS)


def strip_region_prefix(name: str) -> str:
    """Removes leading province/municipality and district words (上海市静安区…) from a cleaned name.

    A bare province name (上海…, without 市) is removed only from company names, and nothing is
    removed when less than a name would remain.
    """
    stripped, count = _PROVINCE_WITH_SUFFIX.subn("", name, count=1)
    if count == 0 and _is_company_name(name):
        stripped = _BARE_PROVINCE.sub("", name, count=1)
    district = _DISTRICT_PREFIX.match(stripped)
    if district is not None and not district.group(0).endswith(_NOT_DISTRICT_ENDINGS):
        stripped = stripped[district.end() :]
    return stripped if len(stripped) >= MIN_NAME_CHARS else name


def strip_organisation_form(name: str) -> str:
    """Removes one trailing organisation form (有限公司, 有限责任公司, 店 …) from a cleaned name."""
    for form in _ORGANISATION_FORMS:
        if name.endswith(form) and len(name) - len(form) >= MIN_NAME_CHARS:
            return name[: -len(form)]
    return name


def core_name(text: str) -> str:
    """The distinctive part of a name: no branch, no region prefix, no organisation form.

    ``上海市静安区何娟重庆小面店`` → ``何娟重庆小面``; ``上海鑫源物流有限公司`` → ``鑫源物流``.
    """
    return strip_organisation_form(strip_region_prefix(normalize_name(text)))


def keys_of_one_name(text: str | None) -> set[str]:
    """The keys one written name yields: cleaned in full, without branch, without region, and its core."""
    if not text:
        return set()
    full = clean_name(text)
    if len(full) < MIN_NAME_CHARS or is_placeholder_name(text):
        return set()
    without_branch = normalize_name(text)
    candidates = {
        full,
        without_branch,
        strip_region_prefix(full),
        strip_region_prefix(without_branch),
        strip_organisation_form(strip_region_prefix(without_branch)),
    }
    return {key for key in candidates if len(key) >= MIN_NAME_CHARS}


def is_placeholder_name(text: str) -> bool:
    """True for 无, 不详, 未知, N/A and the like: a field filled in without a name."""
    return clean_name(text) in PLACEHOLDER_NAMES or not clean_name(text)


def name_keys(signboard: str | None, legal_name: str | None, aliases: Iterable[str] = ()) -> set[str]:
    """Every normalised key under which an entity with these names can be found."""
    keys: set[str] = set()
    for text in (signboard, legal_name, *aliases):
        keys |= keys_of_one_name(text)
    return keys
