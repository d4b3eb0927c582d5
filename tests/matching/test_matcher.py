"""EntityIndex: blocking, scoring decisions and keeping the index current."""

from __future__ import annotations

import dataclasses
from typing import TypedDict

import pytest

from service.matching import matcher
from service.matching.geo import METRES_PER_DEGREE_LAT, metres_per_degree_lng
from service.matching.matcher import (
    METHODS,
    EntityIndex,
    EntityRef,
    MatchQuery,
    MatchResult,
    MatchThresholds,
)
from service.matching.uscc import USCC_ALPHABET, uscc_check_character

ROADS = {"岭南路": 0, "临汾路": 1, "汾西路": 2, "场中路": 3}
BASE_LAT, BASE_LNG = 31.29, 121.44
METRES_PER_DEG_LAT = METRES_PER_DEGREE_LAT
METRES_PER_DEG_LNG = metres_per_degree_lng(BASE_LAT)


def place(road: str, number: int, offset_m: float = 0.0) -> tuple[float, float]:
    """A point on a synthetic street plan: roads 400 m apart, house numbers 5 m apart."""
    north_m = ROADS[road] * 400 + (8 if number % 2 else -8)
    east_m = number * 5 + offset_m
    return BASE_LAT + north_m / METRES_PER_DEG_LAT, BASE_LNG + east_m / METRES_PER_DEG_LNG


def code(seed: str) -> str:
    body = (seed * 17)[:17]
    return body + uscc_check_character(body)


def entity(entity_id: str, name: str, legal: str | None, road: str, number: int, **extra: object) -> EntityRef:
    lat, lng = place(road, number)
    fields: dict[str, object] = {"lat": lat, "lng": lng, "address": f"{road}{number}号"}
    fields.update(extra)
    return EntityRef(id=entity_id, name=name, legal_name=legal, **fields)  # type: ignore[arg-type]


USCC_1 = code("91310106MAWTCDKQ2")
USCC_2 = code("91310106MAFH7B7M2")

REGISTER = [
    entity("E1", "鑫源快递驿站", "上海鑫源物流有限公司", "岭南路", 583, uscc=USCC_1),
    entity("E2", "小朱便利店", "上海小朱商贸有限公司", "临汾路", 46, uscc=USCC_2),
    entity("E3", "重庆小面", "上海市静安区何娟重庆小面店", "汾西路", 103),
    entity("E4", "重庆小面", "上海市静安区李强重庆小面店", "汾西路", 301),
    entity("E5", "全家便利店（临汾路店）", "上海福满家便利有限公司临汾路分店", "临汾路", 230),
    entity("E6", "老高生鲜超市", "上海市静安区高杰生鲜超市", "汾西路", 597),
    entity("E7", "阿勇五金店", "上海市静安区马海燕五金店", "岭南路", 462, aliases=("新马五金店",)),
    entity("E8", "鑫达茶叶店", None, "场中路", 10),
    entity("E9", "鑫达水果店", None, "场中路", 10),
    entity("E10", "重庆小面", "上海市静安区王伟重庆小面店", "场中路", 500),
    entity("E11", "重庆小面", "上海市静安区赵敏重庆小面店", "场中路", 503),
]


@pytest.fixture
def index() -> EntityIndex:
    return EntityIndex(REGISTER)


class Location(TypedDict):
    lat: float
    lng: float


def at(road: str, number: int, offset_m: float = 0.0) -> Location:
    lat, lng = place(road, number, offset_m)
    return {"lat": lat, "lng": lng}


def assert_linked(result: MatchResult, entity_id: str, method: str) -> None:
    assert (result.entity_id, result.method) == (entity_id, method), result


def assert_waits(result: MatchResult) -> None:
    assert result.entity_id is None and result.method == "none", result


# ---- credit codes --------------------------------------------------------------------------------


def test_a_valid_code_links_by_itself(index: EntityIndex) -> None:
    assert_linked(index.match(MatchQuery(uscc=USCC_1)), "E1", "uscc")
    assert_linked(index.match(MatchQuery(uscc=USCC_1.lower(), name="鑫源物流")), "E1", "uscc")


def test_a_code_still_links_when_only_the_name_disagrees(index: EntityIndex) -> None:
    assert_linked(index.match(MatchQuery(uscc=USCC_1, name="老王面馆")), "E1", "uscc")


def test_a_code_contradicted_by_name_and_address_does_not_link_by_itself(index: EntityIndex) -> None:
    result = index.match(MatchQuery(uscc=USCC_1, name="小朱便利店", address="临汾路46号"))
    assert result.method != "uscc"
    assert result.entity_id == "E2"  # judged on name and address, as if there were no code


def test_an_invalid_code_is_ignored(index: EntityIndex) -> None:
    mistyped = USCC_1[:-1] + next(c for c in USCC_ALPHABET if c != USCC_1[-1])
    assert_waits(index.match(MatchQuery(uscc=mistyped)))
    assert_linked(
        index.match(MatchQuery(uscc=mistyped, name="上海鑫源物流有限公司", address="岭南路583号")), "E1", "name_address"
    )


def test_an_invalid_code_in_the_register_is_not_indexed() -> None:
    broken = dataclasses.replace(REGISTER[0], uscc=USCC_1[:-1] + "0" if USCC_1[-1] != "0" else USCC_1[:-1] + "1")
    assert_waits(EntityIndex([broken]).match(MatchQuery(uscc=broken.uscc)))


# ---- names and addresses --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "address"),
    [
        ("上海鑫源物流有限公司", "岭南路583号"),
        ("鑫源快递驿站", "上海市静安区岭南路５８３号1楼"),
        ("鑫源物流", "静安区岭南路583号门前"),
    ],
)
def test_name_and_address(index: EntityIndex, name: str, address: str) -> None:
    assert_linked(index.match(MatchQuery(name=name, address=address)), "E1", "name_address")


def test_branch_spellings_and_full_width(index: EntityIndex) -> None:
    for name in ("全家便利店(临汾路店)", "全家便利店", "上海福满家便利有限公司临汾路分店"):
        assert_linked(index.match(MatchQuery(name=name, address="临汾路２３０号一层")), "E5", "name_address")


def test_an_alias_is_a_name(index: EntityIndex) -> None:
    assert_linked(index.match(MatchQuery(name="新马五金店", address="岭南路462号门口人行道")), "E7", "name_address")


def test_a_near_miss_house_number_with_the_name(index: EntityIndex) -> None:
    assert_linked(index.match(MatchQuery(name="老高生鲜超市", address="汾西路593号")), "E6", "name_address")


def test_an_address_alone_links_when_one_entity_has_it(index: EntityIndex) -> None:
    assert_linked(index.match(MatchQuery(address="上海市临汾路46号")), "E2", "address")


@pytest.mark.parametrize("placeholder", ["无", "不详", "/"])
def test_a_placeholder_name_is_no_name(index: EntityIndex, placeholder: str) -> None:
    assert_linked(index.match(MatchQuery(name=placeholder, address="临汾路46号")), "E2", "address")


def test_an_address_typed_into_the_name_field(index: EntityIndex) -> None:
    assert_linked(index.match(MatchQuery(name="上海市临汾路46号")), "E2", "address")
    assert_linked(index.match(MatchQuery(name="临汾路46号", address="临汾路46号一层")), "E2", "address")


def test_an_address_shared_by_two_entities_does_not_link_alone(index: EntityIndex) -> None:
    result = index.match(MatchQuery(address="场中路10号", **at("场中路", 10)))
    assert_waits(result)
    assert {c.entity_id for c in result.candidates[:2]} == {"E8", "E9"}
    assert_linked(index.match(MatchQuery(name="鑫达水果店", address="场中路10号")), "E9", "name_address")


def test_a_name_that_contradicts_the_address_does_not_link(index: EntityIndex) -> None:
    assert_waits(index.match(MatchQuery(name="沙县小吃", address="汾西路103号", **at("汾西路", 103))))


def test_a_different_number_on_the_same_road_is_not_a_match(index: EntityIndex) -> None:
    assert_waits(index.match(MatchQuery(name="老高生鲜超市", address="汾西路801号")))


def test_a_crossing_alone_never_links(index: EntityIndex) -> None:
    result = index.match(MatchQuery(address="汾西路阳曲路路口", **at("汾西路", 103, offset_m=5)))
    assert_waits(result)
    assert result.candidates  # the operator still sees who is nearby


def test_a_chain_name_alone_does_not_link(index: EntityIndex) -> None:
    result = index.match(MatchQuery(name="重庆小面"))
    assert_waits(result)
    assert {"E3", "E4"} <= {c.entity_id for c in result.candidates}


def test_a_chain_name_with_a_location_links_to_the_one_nearby(index: EntityIndex) -> None:
    assert_linked(index.match(MatchQuery(name="重庆小面", **at("汾西路", 103, offset_m=10))), "E3", "nearby")
    result = index.match(MatchQuery(name="重庆小面", address="汾西路近阳曲路", **at("汾西路", 301, offset_m=-12)))
    assert_linked(result, "E4", "nearby")


def test_two_look_alikes_side_by_side_do_not_link(index: EntityIndex) -> None:
    # E10 and E11 are both 重庆小面, 15 m apart: a location between them decides nothing.
    assert_waits(index.match(MatchQuery(name="重庆小面", **at("场中路", 501))))


def test_a_unique_name_with_its_road(index: EntityIndex) -> None:
    assert_linked(index.match(MatchQuery(name="老高生鲜超市", address="汾西路沿线")), "E6", "name")


def test_nothing_to_go_on(index: EntityIndex) -> None:
    result = index.match(MatchQuery())
    assert_waits(result)
    assert result.candidates == [] and result.score == 0.0


def test_locations_outside_china_are_ignored(index: EntityIndex) -> None:
    assert_waits(index.match(MatchQuery(name="重庆小面", lat=0.0, lng=0.0)))


# ---- results ----------------------------------------------------------------------------------


def test_results_carry_ranked_candidates(index: EntityIndex) -> None:
    result = index.match(MatchQuery(name="重庆小面", address="汾西路105号"))
    assert result.method in METHODS
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)
    assert len(result.candidates) <= MatchThresholds().candidate_limit
    assert all(c.detail for c in result.candidates)
    assert len(index.candidates_for(MatchQuery(name="重庆小面"), limit=2)) == 2


def test_stricter_thresholds_link_less(index: EntityIndex) -> None:
    query = MatchQuery(address="上海市临汾路46号")
    assert index.match(query).entity_id == "E2"
    assert_waits(index.match(query, MatchThresholds(link_score=0.99)))


# ---- keeping the index current ------------------------------------------------------------------


def test_remove_and_update(index: EntityIndex) -> None:
    index.remove("E1")
    assert "E1" not in index
    assert_waits(index.match(MatchQuery(uscc=USCC_1)))
    index.remove("E1")  # unknown ids are ignored

    moved = dataclasses.replace(REGISTER[1], address="场中路900号", lat=None, lng=None)
    index.update(moved)
    assert index.get("E2") == moved
    assert_waits(index.match(MatchQuery(address="临汾路46号")))
    assert_linked(index.match(MatchQuery(name="小朱便利店", address="场中路900号")), "E2", "name_address")
    assert len(index) == len(REGISTER) - 1


def test_alias_learning(index: EntityIndex) -> None:
    query = MatchQuery(name="马家五金行", **at("岭南路", 462, offset_m=5))
    assert_waits(index.match(query))
    assert index.add_alias("E7", "马家五金行")
    assert_linked(index.match(query), "E7", "nearby")
    assert index.add_alias("E7", "马家五金行")  # learning twice is harmless
    assert index.get("E7") is not None and index.get("E7").aliases.count("马家五金行") == 1  # type: ignore[union-attr]
    assert not index.add_alias("NOPE", "马家五金行")
    assert not index.add_alias("E7", "（）")


def test_removing_every_entity_leaves_empty_indexes() -> None:
    index = EntityIndex(REGISTER)
    for ref in REGISTER:
        index.remove(ref.id)
    assert len(index) == 0
    assert not any((index._by_name, index._by_uscc, index._by_address, index._by_lane, index._by_cell, index._roads))


# ---- blocking ---------------------------------------------------------------------------------


def test_matching_scores_a_few_candidates_not_the_register(monkeypatch: pytest.MonkeyPatch) -> None:
    refs = [
        entity(f"S{i}", f"{'鑫源鑫达鑫旺鑫隆'[i % 4]}{i}号店铺", None, list(ROADS)[i % 4], i // 4 + 1)
        for i in range(4000)
    ]
    index = EntityIndex(refs)
    scored: list[str] = []
    original = EntityIndex._text_evidence

    def counting(self: EntityIndex, query: object, entry: object) -> object:
        scored.append("x")
        return original(self, query, entry)  # type: ignore[arg-type]

    monkeypatch.setattr(EntityIndex, "_text_evidence", counting)
    target = refs[1234]
    assert target.lat is not None and target.lng is not None and target.address is not None
    result = index.match(MatchQuery(name=target.name, address=target.address, lat=target.lat, lng=target.lng))
    assert result.entity_id == target.id
    assert 0 < len(scored) < 100


def test_the_text_cache_keeps_a_bounded_amount_of_evidence(monkeypatch: pytest.MonkeyPatch) -> None:
    """One text reported from place after place gathers evidence for every entity near each; the
    cache drops its oldest texts once it holds TEXT_CACHE_EVIDENCE in all, and answers as before."""
    monkeypatch.setattr(matcher, "TEXT_CACHE_EVIDENCE", 60)
    refs = [entity(f"R{number}", f"{number}号铺", None, "临汾路", number) for number in range(1, 401)]
    index = EntityIndex(refs)
    for step in range(100):
        query = MatchQuery(name="老林水果店", address="临汾路200号", **at("临汾路", 4 * step))
        other = MatchQuery(name="阿强修车铺", address="临汾路100号", **at("临汾路", 4 * step + 2))
        assert index.match(query) == EntityIndex(refs).match(query)
        index.match(other)
        kept = sum(len(known.evidence) for known in index._by_text.values())
        assert kept == index._evidence_kept
        assert kept <= 60 + 60  # the limit, and what the newest query added since it was checked
    index.add(entity("R401", "401号铺", None, "临汾路", 401))
    assert index._evidence_kept == 0
