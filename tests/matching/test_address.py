"""Addresses reduced to road + house number, or a crossing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.matching.address import (
    ParsedAddress,
    address_key,
    canonical_address,
    chinese_number_to_int,
    looks_like_address,
    parse_address,
    strip_admin_prefixes,
)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("临汾路375号", "临汾路375"),
        ("上海市静安区临汾路375号", "临汾路375"),
        ("上海市临汾路375号", "临汾路375"),
        ("上海临汾路375号", "临汾路375"),
        ("静安区临汾路375号", "临汾路375"),
        ("静安区临汾路街道临汾路375号", "临汾路375"),
        ("临汾路街道临汾路375号", "临汾路375"),
        ("上海市 静安区 临汾路 375 号", "临汾路375"),
        ("临汾路３７５号", "临汾路375"),
        ("静安区临汾路３７５号门前", "临汾路375"),
        ("临汾路375号1楼", "临汾路375"),
        ("临汾路375号一层", "临汾路375"),
        ("临汾路375号底层", "临汾路375"),
        ("临汾路375号2F", "临汾路375"),
        ("临汾路375号201室", "临汾路375"),
        ("临汾路375号东侧", "临汾路375"),
        ("临汾路375号西侧", "临汾路375"),
        ("临汾路375号门口人行道", "临汾路375"),
        ("临汾路375号沿街商铺", "临汾路375"),
        ("临汾路375号附近", "临汾路375"),
        ("临汾路375号对面", "临汾路375"),
        ("临汾路375号(近阳曲路)", "临汾路375"),
        ("临汾路375-377号", "临汾路375"),
        ("临汾路375", "临汾路375"),
        ("临汾路三百七十五号", "临汾路375"),
        ("3号楼临汾路375号", "临汾路375"),
        ("共和新路4546号", "共和新路4546"),
        ("中山北路12号", "中山北路12"),
        ("沪太支路8号", "沪太支路8"),
        ("大场镇场中路12号", "场中路12"),
        ("上海市浦东新区张江镇科苑路88号", "科苑路88"),
        ("市光路100号", "市光路100"),  # a road that starts like a city
        ("上海路12号", "上海路12"),  # and one named after the city
        # Lanes: 380弄 is not 380号.
        ("临汾路380弄", "临汾路380弄"),
        ("临汾路380弄12号", "临汾路380弄12"),
        ("临汾路380弄12号201室", "临汾路380弄12"),
        ("上海市静安区临汾路380弄12号楼", "临汾路380弄"),
    ],
)
def test_address_key(text: str, key: str) -> None:
    assert address_key(text) == key


def test_lane_and_house_numbers_differ() -> None:
    assert address_key("临汾路380弄") != address_key("临汾路380号")
    lane = parse_address("临汾路380弄12号")
    assert lane == ParsedAddress(road="临汾路", number=380, lane=True, sub_number=12)


@pytest.mark.parametrize(
    ("text", "crossing"),
    [
        ("阳曲路临汾路路口", ("临汾路", "阳曲路")),
        ("临汾路阳曲路路口", ("临汾路", "阳曲路")),
        ("阳曲路与临汾路交叉口", ("临汾路", "阳曲路")),
        ("阳曲路和临汾路交叉路口", ("临汾路", "阳曲路")),
        ("阳曲路/临汾路", ("临汾路", "阳曲路")),
        ("上海市静安区阳曲路临汾路路口附近", ("临汾路", "阳曲路")),
        ("共和新路临汾路路口", ("临汾路", "共和新路")),
        ("汾西路近岭南路", ("岭南路", "汾西路")),
    ],
)
def test_crossings_have_no_number(text: str, crossing: tuple[str, str]) -> None:
    parsed = parse_address(text)
    assert parsed.crossing == crossing
    assert parsed.number is None
    assert parsed.key is None
    assert address_key(text) is None


def test_vague_text_has_no_key() -> None:
    assert parse_address(None) == ParsedAddress(road=None, number=None)
    assert parse_address("") == ParsedAddress(road=None, number=None)
    assert parse_address("上海市静安区") == ParsedAddress(road=None, number=None)
    road_only = parse_address("临汾路沿线")
    assert road_only.road == "临汾路" and road_only.number is None and road_only.key is None
    assert address_key("临汾路2楼") is None  # a floor is not a house number
    assert address_key("临汾路1号线") is None  # nor is a metro line


def test_approximate_places() -> None:
    assert parse_address("临汾路375号附近").approximate
    assert parse_address("临汾路375号对面").approximate
    assert not parse_address("临汾路375号门前").approximate
    assert not parse_address("临汾路375号东侧").approximate


def test_strip_admin_prefixes() -> None:
    assert strip_admin_prefixes("上海市静安区临汾路街道临汾路375号") == "临汾路375号"
    assert strip_admin_prefixes("临汾社区门口") == "临汾社区门口"  # a 社区 is not a district


@pytest.mark.parametrize(
    ("text", "value"), [("三百七十五", 375), ("十二", 12), ("十", 10), ("一二三", 123), ("两千零五", 2005)]
)
def test_chinese_numbers(text: str, value: int) -> None:
    assert chinese_number_to_int(text) == value


def test_canonical_address() -> None:
    assert canonical_address(parse_address("上海市临汾路３７５号1楼")) == "临汾路375号"
    assert canonical_address(parse_address("临汾路380弄12号")) == "临汾路380弄12号"
    assert canonical_address(parse_address("阳曲路临汾路路口")) == "临汾路/阳曲路路口"
    assert canonical_address(parse_address("")) is None


ROADS = ("临汾路", "共和新路", "阳曲路", "中山北路", "沪太支路", "南京西路", "岭南路")
PREFIXES = ("", "上海市", "上海", "静安区", "上海市静安区", "静安区临汾路街道", "上海市 静安区 ")
SUFFIXES = ("", "1楼", "一层", "2F", "201室", "门前", "东侧", "附近", "对面", "底层", "门口人行道", " (近阳曲路)")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@given(
    st.sampled_from(ROADS),
    st.integers(min_value=1, max_value=9999),
    st.sampled_from(PREFIXES),
    st.sampled_from(SUFFIXES),
    st.booleans(),
)
def test_written_variants_give_the_same_key(road: str, number: int, prefix: str, suffix: str, wide: bool) -> None:
    text = f"{prefix}{road}{number}号{suffix}"
    if wide:
        text = text.translate(FULLWIDTH)
    assert address_key(text) == f"{road}{number}"


@given(
    st.sampled_from(ROADS),
    st.sampled_from(ROADS),
    st.sampled_from(("路口", "交叉口")),
    st.sampled_from(("", "与", "和")),
)
def test_crossings_of_two_roads(first: str, second: str, word: str, join: str) -> None:
    parsed = parse_address(f"{first}{join}{second}{word}")
    if first == second:
        return
    assert parsed.crossing == tuple(sorted((first, second)))
    assert parsed.key is None


@given(st.text(max_size=40))
def test_any_text_parses_without_error(text: str) -> None:
    parsed = parse_address(text)
    assert parsed.key is None or parsed.road is not None


def test_looks_like_address() -> None:
    assert looks_like_address("临汾路375号")
    assert looks_like_address("上海市静安区临汾路375号1楼")
    assert not looks_like_address("老王面馆")
    assert not looks_like_address("老王面馆(临汾路375号)")
    assert not looks_like_address(None)
