"""Evidence that a department record and a register entity are the same place, in log-odds.

Each kind of evidence — name, address, distance, credit code — adds a weight in natural-log
odds (+2.3 ≈ ten times likelier, −2.3 ≈ ten times less likely). Adding them assumes the kinds
are independent, which is rough but keeps every weight readable and each decision explainable.
A candidate's score is the logistic of prior + evidence.

The weights are round numbers that follow the data's general pattern (an exact house number is
near-decisive, a chain name alone is weak, a different number on the same road is a different
shop), not values fitted to a sample.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from enum import Enum
from functools import lru_cache
from typing import NamedTuple

from rapidfuzz import fuzz

from service.matching.address import ParsedAddress

# Before any evidence: a candidate proposed by blocking is unlikely to be the one.
PRIOR = -3.0

# Name.
NAME_EXACT = 4.5  # an exact key shared by this entity alone
NAME_SPECIFICITY_SLOPE = 0.5  # minus this per e-fold of entities sharing the key (chains)
NAME_EXACT_FLOOR = 2.0
NAME_SIMILAR = 2.5  # similarity ≥ NAME_SIMILAR_AT: a variant spelling
NAME_LOOSE = 0.0  # between NAME_LOOSE_AT and NAME_SIMILAR_AT: neither for nor against
NAME_WEAK = -1.5  # between NAME_CONTRADICTS_BELOW and NAME_LOOSE_AT
NAME_CONTRADICTS = -4.0  # another business
NAME_SIMILAR_AT = 90.0
NAME_LOOSE_AT = 80.0
NAME_CONTRADICTS_BELOW = 65.0

# Address.
ADDRESS_EXACT = 5.0
ADDRESS_EXACT_APPROXIMATE = 4.0  # 375号附近, 375号对面
ADDRESS_SPECIFICITY_SLOPE = 0.5  # several entities at one number (a mall, a lane)
ADDRESS_NEAR = 1.0  # same road, same side, a few numbers away: a slip of the pen
ADDRESS_CONFLICT = -3.0  # same road far away, or another road
ADDRESS_CONFLICT_APPROXIMATE = -1.5
NEAR_NUMBER_WINDOW = 6
CROSSING_ON_ROAD = 0.5  # the entity lies on one of the crossing's roads
CROSSING_OFF_ROAD = -1.0
ROAD_SAME = 0.5
ROAD_OTHER = -1.0

# Distance between the record's location and the entity's, in metres → weight.
DISTANCE_BANDS: tuple[tuple[float, float], ...] = (
    (30.0, 1.5),
    (80.0, 1.0),
    (150.0, 0.0),
    (300.0, -1.0),
)
DISTANCE_BEYOND = -3.0

# Credit code.
USCC_SAME = 8.0
USCC_DIFFERENT = -3.0  # both valid, and they differ: another legal person


class NameAgreement(Enum):
    NONE = "none"  # the record names nobody
    EXACT = "exact"
    SIMILAR = "similar"
    LOOSE = "loose"
    WEAK = "weak"
    CONTRADICTS = "contradicts"


class AddressAgreement(Enum):
    NONE = "none"  # nothing comparable
    EXACT = "exact"
    NEAR = "near"
    CONFLICT = "conflict"
    CROSSING_ON_ROAD = "crossing_on_road"
    CROSSING_OFF_ROAD = "crossing_off_road"
    ROAD_SAME = "road_same"
    ROAD_OTHER = "road_other"


class Evidence(NamedTuple):
    """One candidate's evidence, kept apart so the decision and the operator can read it."""

    name: NameAgreement
    name_weight: float
    address: AddressAgreement
    address_weight: float
    distance_m: float | None
    distance_weight: float
    uscc_weight: float

    @property
    def total(self) -> float:
        return PRIOR + self.name_weight + self.address_weight + self.distance_weight + self.uscc_weight

    @property
    def score(self) -> float:
        return logistic(self.total)

    @property
    def name_supports(self) -> bool:
        return self.name in (NameAgreement.EXACT, NameAgreement.SIMILAR)

    @property
    def address_supports(self) -> bool:
        return self.address in (AddressAgreement.EXACT, AddressAgreement.NEAR)

    @property
    def distance_supports(self) -> bool:
        return self.distance_weight > 0

    def describe(self) -> str:
        """A short line for the operator: ``name=exact address=near 12m``."""
        parts = [f"name={self.name.value}", f"address={self.address.value}"]
        if self.distance_m is not None:
            parts.append(f"{self.distance_m:.0f}m")
        if self.uscc_weight > 0:
            parts.append("uscc=same")
        elif self.uscc_weight < 0:
            parts.append("uscc=different")
        return " ".join(parts)


def logistic(log_odds: float) -> float:
    """Log-odds → probability, without overflow at the extremes."""
    if log_odds >= 0:
        return 1.0 / (1.0 + math.exp(-log_odds))
    odds = math.exp(log_odds)
    return odds / (1.0 + odds)


@lru_cache(maxsize=65_536)  # pure, and the same pairs of names come up again and again
def name_similarity(first: str, second: str) -> float:
    """0–100 similarity of two cleaned names, judged on what distinguishes them.

    A shared ending (the trade: 水果店, 便利店临汾路店) says nothing about whether two shops are
    the same, so it is set aside before comparing: 老林水果店 vs 老杨水果店 compares 老林 with 老杨.
    """
    if first == second:
        return 100.0
    common = 0
    for a, b in zip(reversed(first), reversed(second), strict=False):
        if a != b:
            break
        common += 1
    if 0 < common < min(len(first), len(second)):
        return fuzz.ratio(first[:-common], second[:-common])
    return fuzz.ratio(first, second)


def name_weight_for_exact(entities_sharing_key: int) -> float:
    """Weight of an exact key match, lower when many entities share the key (chains, common trades)."""
    sharing = max(1, entities_sharing_key)
    return max(NAME_EXACT_FLOOR, NAME_EXACT - NAME_SPECIFICITY_SLOPE * math.log(sharing))


def name_agreement_for_similarity(similarity: float) -> tuple[NameAgreement, float]:
    """Agreement and weight for the best similarity between non-identical names."""
    if similarity >= NAME_SIMILAR_AT:
        return NameAgreement.SIMILAR, NAME_SIMILAR
    if similarity >= NAME_LOOSE_AT:
        return NameAgreement.LOOSE, NAME_LOOSE
    if similarity >= NAME_CONTRADICTS_BELOW:
        return NameAgreement.WEAK, NAME_WEAK
    return NameAgreement.CONTRADICTS, NAME_CONTRADICTS


def numbers_are_near(first: int, second: int, window: int = NEAR_NUMBER_WINDOW) -> bool:
    """Same side of the road (same parity) and within ``window`` numbers, but not equal."""
    difference = abs(first - second)
    return 0 < difference <= window and difference % 2 == 0


def compare_addresses(
    query: ParsedAddress, entity: ParsedAddress, entities_at_key: int = 1
) -> tuple[AddressAgreement, float]:
    """How the record's address bears on the entity's: agreement and weight."""
    if entity.road is None:
        return AddressAgreement.NONE, 0.0
    if query.road is not None and query.number is not None:
        if query.road != entity.road or entity.number is None:
            return _conflict(query)
        if query.key == entity.key:
            base = ADDRESS_EXACT_APPROXIMATE if query.approximate else ADDRESS_EXACT
            return AddressAgreement.EXACT, base - ADDRESS_SPECIFICITY_SLOPE * math.log(max(1, entities_at_key))
        if query.lane == entity.lane and _houses_are_near(query, entity):
            return AddressAgreement.NEAR, ADDRESS_NEAR
        return _conflict(query)
    if query.crossing is not None:
        if entity.road in query.crossing:
            return AddressAgreement.CROSSING_ON_ROAD, CROSSING_ON_ROAD
        return AddressAgreement.CROSSING_OFF_ROAD, CROSSING_OFF_ROAD
    if query.road is not None:
        if query.road == entity.road:
            return AddressAgreement.ROAD_SAME, ROAD_SAME
        return AddressAgreement.ROAD_OTHER, ROAD_OTHER
    return AddressAgreement.NONE, 0.0


def _houses_are_near(query: ParsedAddress, entity: ParsedAddress) -> bool:
    assert query.number is not None and entity.number is not None
    if not query.lane:
        return numbers_are_near(query.number, entity.number)
    if query.number != entity.number:
        return False
    if query.sub_number is None or entity.sub_number is None:
        return True  # the lane with and without the house inside it
    return numbers_are_near(query.sub_number, entity.sub_number)


def _conflict(query: ParsedAddress) -> tuple[AddressAgreement, float]:
    weight = ADDRESS_CONFLICT_APPROXIMATE if query.approximate else ADDRESS_CONFLICT
    return AddressAgreement.CONFLICT, weight


_DISTANCE_LIMITS = tuple(limit for limit, _ in DISTANCE_BANDS)
_DISTANCE_WEIGHTS = (*(weight for _, weight in DISTANCE_BANDS), DISTANCE_BEYOND)


def distance_weight(distance_m: float | None) -> float:
    """Weight of the distance between the record's location and the entity's (0 when unknown)."""
    if distance_m is None:
        return 0.0
    return _DISTANCE_WEIGHTS[bisect_left(_DISTANCE_LIMITS, distance_m)]  # the first band it is within


def uscc_weight(query_uscc: str | None, entity_uscc: str | None) -> float:
    """Weight of two valid credit codes: the same is near proof, different is strong doubt."""
    if query_uscc is None or entity_uscc is None:
        return 0.0
    return USCC_SAME if query_uscc == entity_uscc else USCC_DIFFERENT
