"""Evidence weights: names, addresses, distance, credit codes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from service.matching.address import parse_address
from service.matching.scoring import (
    AddressAgreement,
    NameAgreement,
    compare_addresses,
    distance_weight,
    logistic,
    name_agreement_for_similarity,
    name_similarity,
    name_weight_for_exact,
    numbers_are_near,
    uscc_weight,
)


def test_shared_trade_words_do_not_make_shops_similar() -> None:
    assert name_similarity("老林水果店", "老杨水果店") < 65
    assert name_similarity("全家便利店临汾路店", "罗森便利店临汾路店") < 65
    assert name_agreement_for_similarity(name_similarity("老林水果店", "老杨水果店"))[0] is NameAgreement.CONTRADICTS


def test_spelling_variants_are_similar() -> None:
    assert name_similarity("老娘舅餐厅", "老娘舅餐厅") == 100
    assert name_similarity("王老师培训中心", "王老师培训") >= 80
    assert name_agreement_for_similarity(95)[0] is NameAgreement.SIMILAR


def test_exact_names_shared_by_many_entities_weigh_less() -> None:
    assert name_weight_for_exact(1) > name_weight_for_exact(4) > name_weight_for_exact(25)
    assert name_weight_for_exact(100_000) > 0  # a chain name is weak evidence, never evidence against
    assert name_weight_for_exact(0) == name_weight_for_exact(1)


def test_numbers_are_near() -> None:
    assert numbers_are_near(375, 377)
    assert numbers_are_near(375, 381)
    assert not numbers_are_near(375, 375)  # equal is exact, not near
    assert not numbers_are_near(375, 376)  # the other side of the road
    assert not numbers_are_near(375, 385)


def agreement(query: str, entity: str, entities_at_key: int = 1) -> AddressAgreement:
    return compare_addresses(parse_address(query), parse_address(entity), entities_at_key)[0]


def test_compare_addresses() -> None:
    assert agreement("上海市临汾路375号1楼", "临汾路375号") is AddressAgreement.EXACT
    assert agreement("临汾路377号", "临汾路375号") is AddressAgreement.NEAR
    assert agreement("临汾路395号", "临汾路375号") is AddressAgreement.CONFLICT
    assert agreement("临汾路376号", "临汾路375号") is AddressAgreement.CONFLICT
    assert agreement("阳曲路375号", "临汾路375号") is AddressAgreement.CONFLICT
    assert agreement("临汾路375弄", "临汾路375号") is AddressAgreement.CONFLICT
    assert agreement("临汾路380弄", "临汾路380弄12号") is AddressAgreement.NEAR
    assert agreement("临汾路380弄12号", "临汾路380弄12号") is AddressAgreement.EXACT
    assert agreement("临汾路380弄30号", "临汾路380弄12号") is AddressAgreement.CONFLICT
    assert agreement("阳曲路临汾路路口", "临汾路375号") is AddressAgreement.CROSSING_ON_ROAD
    assert agreement("阳曲路岭南路路口", "临汾路375号") is AddressAgreement.CROSSING_OFF_ROAD
    assert agreement("临汾路沿线", "临汾路375号") is AddressAgreement.ROAD_SAME
    assert agreement("阳曲路沿线", "临汾路375号") is AddressAgreement.ROAD_OTHER
    assert agreement("", "临汾路375号") is AddressAgreement.NONE
    assert agreement("临汾路375号", "") is AddressAgreement.NONE


def test_a_different_number_on_the_same_road_is_evidence_against() -> None:
    _, weight = compare_addresses(parse_address("临汾路395号"), parse_address("临汾路375号"))
    assert weight < 0


def test_approximate_addresses_weigh_less_either_way() -> None:
    exact = compare_addresses(parse_address("临汾路375号"), parse_address("临汾路375号"))[1]
    near_it = compare_addresses(parse_address("临汾路375号附近"), parse_address("临汾路375号"))[1]
    assert 0 < near_it < exact
    conflict = compare_addresses(parse_address("临汾路395号"), parse_address("临汾路375号"))[1]
    vague_conflict = compare_addresses(parse_address("临汾路395号对面"), parse_address("临汾路375号"))[1]
    assert conflict < vague_conflict < 0


def test_several_entities_at_one_address_weigh_less() -> None:
    one = compare_addresses(parse_address("临汾路375号"), parse_address("临汾路375号"), 1)[1]
    three = compare_addresses(parse_address("临汾路375号"), parse_address("临汾路375号"), 3)[1]
    assert three < one


@given(st.floats(min_value=0, max_value=10_000), st.floats(min_value=0, max_value=10_000))
def test_distance_weight_never_grows_with_distance(first: float, second: float) -> None:
    near, far = sorted((first, second))
    assert distance_weight(near) >= distance_weight(far)


def test_distance_weight_bands() -> None:
    assert distance_weight(None) == 0
    assert distance_weight(10) > 0
    assert distance_weight(80) > 0
    assert distance_weight(120) == 0
    assert distance_weight(500) < 0


def test_uscc_weight() -> None:
    assert uscc_weight(None, "91350100M000100Y43") == 0
    assert uscc_weight("91350100M000100Y43", None) == 0
    assert uscc_weight("91350100M000100Y43", "91350100M000100Y43") > 5
    assert uscc_weight("91350100M000100Y43", "91110000600037341L") < 0


@given(st.floats(min_value=-1000, max_value=1000))
def test_logistic_is_a_probability(log_odds: float) -> None:
    assert 0.0 <= logistic(log_odds) <= 1.0
