"""Linking residents' complaints to the register from their free text (service/residents/linking.py):
the precision floor on the project's labelled orders, and the rules one order at a time."""

from __future__ import annotations

import pytest

from service.feeds.resolver import EntityResolver
from service.residents.linking import LINK_SCORE, ComplaintLinker
from service.residents.places import misspellings, read_place
from tests.support.hotline_orders import generate_orders, hotline_resolver, measure_linking

# benchmarks/bench_complaint_linking.py measures 3,000 orders; these floors leave room for the sample.
PRECISION_FLOOR = 0.99
RECALL_FLOOR = 0.62


@pytest.fixture(scope="module")
def resolver() -> EntityResolver:
    return hotline_resolver()[1]


@pytest.fixture(scope="module")
def linker(resolver: EntityResolver) -> ComplaintLinker:
    return resolver.complaints


def names(linker: ComplaintLinker, ids: list[str]) -> list[str]:
    return [linker.index.get(i).name for i in ids]  # type: ignore[union-attr]


def test_precision_stays_above_the_floor_on_the_labelled_orders() -> None:
    report = measure_linking(generate_orders(800, seed=4))
    assert report.precision >= PRECISION_FLOOR, report.wrong[:5]
    assert report.recall >= RECALL_FLOOR
    # What is not in the register is never linked.
    for case in ("residential", "stall", "unregistered"):
        assert report.by_case[case]["links"] == 0, case


def test_the_labelled_orders_are_the_same_for_a_seed() -> None:
    assert generate_orders(50, seed=3) == generate_orders(50, seed=3)
    assert generate_orders(50, seed=3) != generate_orders(50, seed=4)


def test_a_named_shop_is_linked_and_a_chain_by_where_the_text_puts_it(linker: ComplaintLinker) -> None:
    unique = linker.match("", "老林烧烤店天天烤到半夜", "noise")
    assert (unique.entity_id, unique.method) == ("LF-000454", "text_name")
    # 马记烧烤店 is three shops: without a place, the caller's three candidates; with the road, the one on it.
    three = linker.match("", "马记烧烤店天天烤到半夜", "noise")
    assert three.entity_id is None and len(three.candidates) == 3
    assert linker.match("闻喜路上", "马记烧烤店天天烤到半夜", "noise").entity_id == "LF-000206"
    # 小朱便利店 is two: 临汾路46号 picks one.
    assert linker.match("临汾路46号", "小朱便利店晚上卸货噪音大", "noise").entity_id == "LF-000002"


def test_a_kind_of_shop_links_when_it_is_the_only_one_near_the_place(linker: ComplaintLinker) -> None:
    at = linker.match("汾西路326号", "楼下烧烤店油烟直排", "fumes")
    assert (at.entity_id, at.method) == ("LF-000142", "text_kind")
    near = linker.match("汾西路330号左右", "那家烧烤店油烟直排", "fumes")
    assert near.entity_id == "LF-000142" and near.score >= LINK_SCORE
    lane = linker.match("汾西路322弄门口那家烧考店", "那家烧烤店油烟直排", "fumes")  # the lane beside it
    assert lane.entity_id == "LF-000142"


def test_several_shops_of_a_kind_on_one_street_are_ranked_not_linked(linker: ComplaintLinker) -> None:
    # 阳曲路 has 烧烤店 at 355 and 364 (and 314): 360弄 is between the first two.
    crowded = linker.match("阳曲路360弄", "门口那家烧烤店油烟直排", "fumes")
    assert crowded.entity_id is None and crowded.score < LINK_SCORE
    assert [c.entity_id for c in crowded.candidates[:3]] == ["LF-000379", "LF-000663", "LF-000188"]
    assert crowded.candidates[0].score > crowded.candidates[1].score > crowded.candidates[2].score


def test_the_issues_example_waits_with_the_nearest_barbecues_ranked(linker: ComplaintLinker) -> None:
    # No 烧烤店 on 临汾路: the order waits, the nearest ones offered.
    vague = linker.match("临汾路375弄小区门口那家烧烤店", "市民来电称楼下烧烤店油烟直排", "fumes")
    assert vague.entity_id is None and vague.candidates
    assert all("烧烤" in name for name in names(linker, [c.entity_id for c in vague.candidates]))


def test_a_shop_named_beside_another_is_a_landmark(linker: ComplaintLinker) -> None:
    text = read_place(
        "小朱便利店旁边那家烧烤店太吵", roads=["临汾路"], estates=[], names={"小朱便利店": 1, "小朱便利": 1}
    )
    assert text.landmarks == ["小朱便利店"] and text.trades == {"bbq"}
    # …and not when its own doorway is the problem.
    own = read_place("小朱便利店门口堆满纸箱", roads=[], estates=[], names={"小朱便利店": 1})
    assert own.names == ["小朱便利店"] and own.landmarks == []


def test_a_kind_beside_a_landmark_links_when_only_one_is_next_to_it(linker: ComplaintLinker) -> None:
    # 小赵理发店 is two shops; next to one of them (within 60 m) stands an 电动车行, next to the other none.
    beside = linker.match("闻喜苑25号楼", "小赵理发店隔壁那家电瓶车店卖过期食品", "food")
    assert (beside.entity_id, beside.method) == ("LF-000790", "text_kind")


def test_a_misspelt_name_is_found_but_not_in_a_road_or_an_estate(linker: ComplaintLinker) -> None:
    assert linker.match("", "老林烧考店天天烤到半夜", "noise").entity_id == "LF-000454"
    # 老王烧烤店 is one character from 老林, 老郭 and 老朱烧烤店: the first two tell shops apart.
    keys = ["老林烧烤店", "老郭烧烤店", "老朱烧烤店"]
    names, misspelt = dict.fromkeys(keys, 1), misspellings(keys)
    found = read_place("老林烧考店天天烤到半夜", roads=[], estates=[], names=names, misspelt=misspelt)
    assert found.names == ["老林烧烤店"]
    assert read_place("老王烧烤店天天烤到半夜", roads=[], estates=[], names=names, misspelt=misspelt).names == []
    # 临汾小区 is an estate, not 临汾小吃(店) misspelt.
    place = read_place(
        "临汾小区17号楼烧烤店油烟大",
        roads=["临汾路"],
        estates=["临汾小区"],
        names={"临汾小吃店": 1},
        misspelt=misspellings(["临汾小吃店"]),
    )
    assert place.names == []


def test_no_shop_named_links_only_a_unique_address_and_only_for_a_shops_problem(linker: ComplaintLinker) -> None:
    assert linker.match("临汾路46号", "晚上很吵", "noise").entity_id == "LF-000002"
    assert linker.match("临汾路46号", "电梯老是坏", "elevator").entity_id is None
    assert linker.match("阳曲路760弄", "小区门口车子乱停乱放", "parking").entity_id is None


def test_stalls_home_addresses_and_ambiguous_typos_never_link(linker: ComplaintLinker) -> None:
    assert linker.match("汾西路326号门口", "晚上有流动摊贩卖烧烤", "street_vending").entity_id is None
    # The caller's own lane house says nothing about where the shop is.
    assert read_place("临汾路380弄12号", roads=["临汾路"], estates=[], names={}).houses[0].home
    assert read_place("临汾路那边375弄12号楼下", roads=["临汾路"], estates=[], names={}).houses[0].home
    assert not read_place("临汾路那边375弄门口", roads=["临汾路"], estates=[], names={}).houses[0].home
    assert linker.match("闻喜路674弄12号", "烧烤店油烟大", "fumes").entity_id is None
    # 闻西路 is one character from 闻喜路 and from 汾西路: neither is assumed.
    assert linker.match("闻西路573号", "这里无照经营好几个月了", "licence").entity_id is None
    # 林汾路 is one character from 临汾路 only.
    assert linker.match("林汾路46号", "晚上很吵", "noise").entity_id == "LF-000002"


def test_the_linker_follows_the_register(resolver: EntityResolver) -> None:
    linker = ComplaintLinker(resolver.index)
    assert linker.match("", "老林烧烤店天天烤到半夜", "noise").entity_id == "LF-000454"
    ref = resolver.index.get("LF-000454")
    assert ref is not None
    resolver.index.remove("LF-000454")
    try:
        assert linker.match("", "老林烧烤店天天烤到半夜", "noise").entity_id is None
    finally:
        resolver.index.add(ref)
    assert linker.match("", "老林烧烤店天天烤到半夜", "noise").entity_id == "LF-000454"
