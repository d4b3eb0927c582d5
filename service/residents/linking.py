"""Which register entity a resident's complaint is about, from its free text, with a confidence.

A 12345 order names no shop in a field of its own: the caller says "临汾路375弄小区门口那家烧烤店",
"小朱便利店晚上卸货", "汾西路326号的烧烤店", "共和新路小学旁边那家饭店". The text is read
(places.py) for roads with 号 or 弄 numbers, crossings, 小区, shop names the register knows and
kinds of shop, and those are resolved against the register:

- a **named** shop (its name or the name's core is in the text) is the one meant when one entity
  bears the name, or when of the entities bearing it (a chain, 重庆小面) exactly one lies where
  the text says (within 250 m of the place, or on the road named);
- a **kind** of shop (烧烤店, 那家饭店) with a place: the entity of that kind at the exact 号
  address, or the only one of that kind within 100 m of the place with no other within 200 m.
  Where several of a kind stand close together nothing is linked: the candidates are ranked by
  distance;
- **no shop at all** ("临汾路46号 晚上很吵"): the entity at that exact 号 address, when it is the
  only one there and the theme is one a shop causes (not 电梯, 物业, 群租, 违法搭建, 停车 —
  those are about the caller's own building);
- a stall, a hawker or an unlicensed shop (摊, 流动, 无证) is not in the register: never linked.

A place is a point: a 号 or 弄 number is placed along its road between the register's entities
with the nearest numbers (Shanghai's lanes share the house numbering of their road); a crossing
is where the two roads' entities come closest; a landmark (小朱便利店旁边, 共和新路小学门口) is
that entity's own point. The confidence is a fixed figure per rule (below); the order links at
LINK_SCORE or above, otherwise it waits in the operators' unlinked queue with the candidates.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from service.matching.address import parse_address
from service.matching.contract import Candidate, EntityRef, MatchResult
from service.matching.geo import METRES_PER_DEGREE_LAT, metres_per_degree_lng
from service.matching.matcher import EntityIndex
from service.matching.names import keys_of_one_name
from service.residents.places import TEXT_WORDS, TextPlace, misspellings, read_place, trades_of_name

LINK_SCORE = 0.9
NEAR_M = 100.0  # a shop of the kind named this close to the place: the one meant, if …
GAP_M = 100.0  # … the next one of that kind is this much farther away
BESIDE_M = 60.0  # 旁边, 隔壁, 边上 a landmark: this close to it
RANKED_WITHIN_M = 400.0  # candidates of the kind named are ranked from this close
NAME_NEAR_M = 250.0  # a named shop this close to the place the text gives is where the text says
ROAD_NUMBER_REACH = 60  # a number this far beyond the road's known numbers is still placed at its end
CROSSING_MAX_M = 150.0  # two roads whose entities come no closer than this do not cross here
CANDIDATES = 5

# Confidences, by the rule that found the entity.
NAMED_UNIQUE = 0.97  # the only entity with the name, nothing said against it
NAMED_PLACED = 0.95  # of several with the name, the only one where the text says
NAMED_ELSEWHERE = 0.6  # named, but the text puts it elsewhere
KIND_AT_ADDRESS = 0.96  # the kind named, at the exact 号 address
KIND_ALONE_NEAR = 0.92  # the only one of the kind near the place
GENERIC_ALONE_NEAR = 0.9  # the only eating place near the place, for 饭店 / 饭馆
KIND_BESIDE = 0.92  # the only one of the kind beside the landmark named (any shop bearing its name)
KIND_CROWDED = 0.55  # the nearest of the kind, but others close by
KIND_ON_ROAD = 0.8  # the only one of the kind on the road named (a road is a kilometre or more)
KIND_IN_ESTATE = 0.5  # of the kind, in the 居委 named
ADDRESS_ONLY = 0.9  # nothing said of the shop, the only entity at the exact 号 address
STALL = 0.5  # a stall or hawker: not a registered shop

# Complaints about the caller's own building or estate, not about a business at the address.
RESIDENTIAL_THEMES = frozenset({"elevator", "property", "group_rental", "illegal_building", "parking"})
METHOD_NAME, METHOD_KIND, METHOD_ADDRESS = "text_name", "text_kind", "text_address"

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class _Shop:
    ref: EntityRef
    road: str | None
    number: int | None  # its 号 number on the road (None for a lane or no address)
    trades: frozenset[str]
    point: Point | None


class ComplaintLinker:
    """Reads complaints against an EntityIndex, rebuilding its own tables when the index changes."""

    def __init__(self, index: EntityIndex) -> None:
        self.index = index
        self._version = -1
        self._shops: dict[str, _Shop] = {}
        self._names: dict[str, set[str]] = {}
        self._roads: dict[str, list[tuple[int, float, float]]] = {}
        self._by_address: dict[tuple[str, int], list[str]] = {}
        self._estates: dict[str, set[str]] = {}
        self._crossings: dict[tuple[str, str], Point | None] = {}
        self._misspelt: dict[str, str] = {}
        self._derived: dict[EntityRef, tuple[_Shop, tuple[str, ...]]] = {}
        self._by_trade: dict[str, list[str]] = {}

    def _sync(self) -> None:
        if self._version == self.index.version:
            return
        shops: dict[str, _Shop] = {}
        names: dict[str, set[str]] = {}
        roads: dict[str, list[tuple[int, float, float]]] = {}
        by_address: dict[tuple[str, int], list[str]] = {}
        estates: dict[str, set[str]] = {}
        by_trade: dict[str, list[str]] = {}
        derived: dict[EntityRef, tuple[_Shop, tuple[str, ...]]] = {}
        for ref in self.index.refs():
            known = self._derived.get(ref)
            if known is None:  # read once per version of an entity: a rebuild reuses the rest
                known = _read_entity(ref)
            derived[ref] = known
            shop, keys = known
            shops[ref.id] = shop
            for trade in shop.trades:
                by_trade.setdefault(trade, []).append(ref.id)
            number, point = shop.number, shop.point
            if shop.road is not None and number is not None:
                by_address.setdefault((shop.road, number), []).append(ref.id)
                if point is not None:
                    roads.setdefault(shop.road, []).append((number, *point))
            if ref.community:
                estates.setdefault(ref.community, set()).add(ref.id)
            for key in keys:
                names.setdefault(key, set()).add(ref.id)
        for road_points in roads.values():
            road_points.sort()
        for key in [key for key in names if key in roads or key in estates]:
            del names[key]
        self._shops, self._names, self._roads = shops, names, roads
        self._by_address, self._estates = by_address, estates
        self._crossings = {}
        self._misspelt = misspellings(names)
        self._derived, self._by_trade = derived, by_trade
        self._version = self.index.version

    # ---- places --------------------------------------------------------------------------

    def _house_point(self, road: str, number: int) -> Point | None:
        """Where number ``number`` of ``road`` lies, between the register's nearest numbers on it."""
        points = self._roads.get(road)
        if not points:
            return None
        at = bisect.bisect_left(points, (number, -math.inf, -math.inf))
        if at < len(points) and points[at][0] == number:
            return points[at][1], points[at][2]
        if at == 0:
            return (points[0][1], points[0][2]) if points[0][0] - number <= ROAD_NUMBER_REACH else None
        if at == len(points):
            return (points[-1][1], points[-1][2]) if number - points[-1][0] <= ROAD_NUMBER_REACH else None
        (n1, lat1, lng1), (n2, lat2, lng2) = points[at - 1], points[at]
        share = (number - n1) / (n2 - n1)
        return lat1 + (lat2 - lat1) * share, lng1 + (lng2 - lng1) * share

    def _crossing_point(self, first: str, second: str) -> Point | None:
        key = (first, second) if first <= second else (second, first)
        if key not in self._crossings:
            self._crossings[key] = self._closest_approach(*key)
        return self._crossings[key]

    def _closest_approach(self, first: str, second: str) -> Point | None:
        best: tuple[float, Point] | None = None
        for _, lat1, lng1 in self._roads.get(first, ()):
            for _, lat2, lng2 in self._roads.get(second, ()):
                metres = _distance((lat1, lng1), (lat2, lng2))
                if best is None or metres < best[0]:
                    best = metres, ((lat1 + lat2) / 2, (lng1 + lng2) / 2)
        return best[1] if best is not None and best[0] <= CROSSING_MAX_M else None

    def _points(self, place: TextPlace, landmarks: list[str]) -> list[Point]:
        points = [p for h in place.houses if not h.home and (p := self._house_point(h.road, h.number))]
        points += [p for a, b in place.crossings if (p := self._crossing_point(a, b))]
        points += [p for entity_id in landmarks if (p := self._shops[entity_id].point)]
        return points

    def _distance_to(self, shop: _Shop, points: list[Point]) -> float:
        if shop.point is None or not points:
            return math.inf
        return min(_distance(shop.point, point) for point in points)

    # ---- deciding ------------------------------------------------------------------------

    def match(self, address: str | None, description: str, theme: str | None) -> MatchResult:
        """The entity the complaint is about (or None), the rule's confidence, and the ranked candidates."""
        return self.match_and_place(address, description, theme)[0]

    def match_and_place(
        self, address: str | None, description: str, theme: str | None
    ) -> tuple[MatchResult, Point | None]:
        """``match``, and the point the text puts the problem at (its first numbered place, crossing
        or landmark; never the caller's home), or None when it names none."""
        self._sync()
        text = f"{address or ''}。{description}"
        place = read_place(text, roads=self._roads, estates=self._estates, names=self._names, misspelt=self._misspelt)
        named: list[str] = list(dict.fromkeys(i for key in place.names for i in sorted(self._names[key])))
        beside = {i for key in place.landmarks for i in self._names[key]}
        # A named entity said as a place (小朱便利店旁边那家烧烤店), or of another kind than the one
        # complained about, is a landmark.
        targets = [i for i in named if i not in beside and (not place.trades or self._shops[i].trades & place.trades)]
        landmarks = [i for i in named if i not in targets]
        points = self._points(place, landmarks)
        if targets:
            result = self._named(targets, place, points)
        elif place.trades:
            result = self._kind(place, points, landmarks)
        else:
            result = self._address_only(place, points, theme)
        return result, (points[0] if points else None)

    def _named(self, targets: list[str], place: TextPlace, points: list[Point]) -> MatchResult:
        cap = STALL if place.stall else 1.0
        at_address = [i for i in targets if self._at_exact_address(i, place)]
        if len(at_address) == 1:
            return self._result(at_address[0], METHOD_NAME, min(cap, NAMED_UNIQUE), targets)
        shops = [self._shops[i] for i in targets]
        if points:
            placed = sorted((self._distance_to(s, points), s.ref.id) for s in shops)
            ranked = [i for _, i in placed]
            if len(targets) == 1:
                score = NAMED_UNIQUE if placed[0][0] <= NAME_NEAR_M else NAMED_ELSEWHERE
                return self._result(targets[0], METHOD_NAME, min(cap, score), ranked)
            if placed[0][0] <= NAME_NEAR_M and placed[1][0] - placed[0][0] >= GAP_M:
                return self._result(placed[0][1], METHOD_NAME, min(cap, NAMED_PLACED), ranked)
            return self._unlinked(ranked, min(cap, KIND_CROWDED))
        if place.roads:
            here = [s.ref.id for s in shops if s.road in place.roads]
            ranked = here + [i for i in targets if i not in here]
            if len(here) == 1:
                score = NAMED_UNIQUE if len(targets) == 1 else NAMED_PLACED
                return self._result(here[0], METHOD_NAME, min(cap, score), ranked)
            if not here and len(targets) == 1:
                return self._result(targets[0], METHOD_NAME, min(cap, NAMED_ELSEWHERE), ranked)
            return self._unlinked(ranked, min(cap, KIND_CROWDED))
        if len(targets) == 1:
            return self._result(targets[0], METHOD_NAME, min(cap, NAMED_UNIQUE), targets)
        return self._unlinked(targets, min(cap, KIND_CROWDED))

    def _at_exact_address(self, entity_id: str, place: TextPlace) -> bool:
        shop = self._shops[entity_id]
        return any(not h.lane and not h.home and (h.road, h.number) == (shop.road, shop.number) for h in place.houses)

    def _kind(self, place: TextPlace, points: list[Point], landmarks: list[str]) -> MatchResult:
        pool = [self._shops[i] for i in sorted({i for trade in place.trades for i in self._by_trade.get(trade, ())})]
        cap = STALL if place.stall else 1.0
        beside = sorted(
            {
                shop.ref.id
                for landmark in landmarks
                if (at := self._shops[landmark].point) is not None
                for shop in pool
                if shop.point is not None and shop.ref.id != landmark and _distance(shop.point, at) <= BESIDE_M
            }
        )
        if len(beside) == 1:  # 小朱便利店旁边那家烧烤店: the only one of the kind next to (a shop of) that name
            return self._result(beside[0], METHOD_KIND, min(cap, KIND_BESIDE), beside)
        exact = [
            i
            for house in place.houses
            if not house.lane and not house.approximate and not house.home
            for i in self._by_address.get((house.road, house.number), ())
            if self._shops[i].trades & place.trades
        ]
        if len(set(exact)) == 1:
            return self._result(exact[0], METHOD_KIND, min(cap, KIND_AT_ADDRESS), exact)
        if points:
            placed = sorted((self._distance_to(s, points), s.ref.id) for s in pool)
            ranked = [i for metres, i in placed[:CANDIDATES] if metres <= RANKED_WITHIN_M]
            alone = placed and placed[0][0] <= NEAR_M and (len(placed) == 1 or placed[1][0] - placed[0][0] >= GAP_M)
            if alone:
                score = KIND_ALONE_NEAR if place.specific_trade else GENERIC_ALONE_NEAR
                return self._result(placed[0][1], METHOD_KIND, min(cap, score), ranked)
            return self._unlinked(ranked, min(cap, KIND_CROWDED))
        if place.roads:
            on_road = sorted(s.ref.id for s in pool if s.road in place.roads)
            return self._unlinked(on_road, min(cap, KIND_ON_ROAD if len(on_road) == 1 else KIND_CROWDED))
        if place.estates:  # a 居委 covers streets of shops: candidates only
            inside = sorted(s.ref.id for s in pool if s.ref.community in place.estates)
            return self._unlinked(inside, min(cap, KIND_IN_ESTATE))
        return MatchResult(None, "none", 0.0, [])

    def _address_only(self, place: TextPlace, points: list[Point], theme: str | None) -> MatchResult:
        exact = {
            i
            for house in place.houses
            if not house.lane and not house.home
            for i in self._by_address.get((house.road, house.number), ())
        }
        if len(exact) == 1 and theme not in RESIDENTIAL_THEMES and not place.stall:
            [entity_id] = exact
            return self._result(entity_id, METHOD_ADDRESS, ADDRESS_ONLY, [entity_id])
        placed = sorted((self._distance_to(s, points), s.ref.id) for s in self._shops.values()) if points else []
        return self._unlinked([i for metres, i in placed[:CANDIDATES] if metres <= NEAR_M], 0.3)

    def _result(self, entity_id: str, method: str, score: float, ranked: list[str]) -> MatchResult:
        others = [i for i in ranked if i != entity_id][: CANDIDATES - 1]
        candidates = [Candidate(entity_id, round(score, 4)), *self._ranked(others, min(score, KIND_CROWDED) / 2)]
        if score >= LINK_SCORE:
            return MatchResult(entity_id, method, score, candidates)
        return MatchResult(None, "none", score, candidates)

    def _unlinked(self, ranked: list[str], best: float) -> MatchResult:
        candidates = self._ranked(ranked[:CANDIDATES], best)
        return MatchResult(None, "none", candidates[0].score if candidates else 0.0, candidates)

    @staticmethod
    def _ranked(ids: list[str], best: float) -> list[Candidate]:
        """Candidates in their order, each scored a little below the one before it."""
        return [Candidate(entity_id, round(best * 0.9**rank, 4)) for rank, entity_id in enumerate(ids)]


def _read_entity(ref: EntityRef) -> tuple[_Shop, tuple[str, ...]]:
    """What linking keeps of one entity: its road, 号, kinds and point, and its name keys."""
    parsed = parse_address(ref.address)
    number = parsed.number if parsed.road and parsed.number and not parsed.lane else None
    point = (ref.lat, ref.lng) if ref.lat is not None and ref.lng is not None else None
    keys = {
        key
        for text in (ref.name, *ref.aliases)
        for key in keys_of_one_name(text)
        if len(key) >= 3 and key not in TEXT_WORDS
    }
    return _Shop(ref, parsed.road, number, trades_of_name(ref.name), point), tuple(sorted(keys))


def _distance(a: Point, b: Point) -> float:
    dy = (a[0] - b[0]) * METRES_PER_DEGREE_LAT
    dx = (a[1] - b[1]) * metres_per_degree_lng(a[0])
    return math.hypot(dx, dy)
