"""Entity resolution: which register entity a department record is about, or none.

``EntityIndex`` keeps the register in memory behind blocking indexes — credit code, each name
key, address key, a ~100 m grid — so a query scores a handful of candidates, never the whole
register. Scores come from :mod:`service.matching.scoring`; the decision here is deliberately
conservative: a record is linked only when one candidate is well above the threshold and well
ahead of the runner-up, and only on positive evidence (a credit code, a name, or a unique exact
address). Everything else waits in the unlinked queue with its best candidates attached.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from service.matching.address import ParsedAddress, looks_like_address, parse_address
from service.matching.contract import (
    DEFAULT_THRESHOLDS,
    METHODS,
    Candidate,
    EntityRef,
    MatchQuery,
    MatchResult,
    MatchThresholds,
)
from service.matching.geo import METRES_PER_DEGREE_LAT, cells_within, grid_cell, in_china, metres_per_degree_lng
from service.matching.names import core_name, keys_of_one_name, name_keys
from service.matching.scoring import (
    PRIOR,
    AddressAgreement,
    Evidence,
    NameAgreement,
    compare_addresses,
    distance_weight,
    name_agreement_for_similarity,
    name_similarity,
    name_weight_for_exact,
    uscc_weight,
)
from service.matching.uscc import valid_uscc_or_none

GRID_CELL_M = 100.0
TEXT_CACHE_SIZE = 4096  # query texts whose per-entity evidence is kept (the same shops come up again and again)
# ... and the evidence they keep in all: a text reported from many places gathers one for every
# entity near each (about 1 KB each), so a large register's cache is bounded by both.
TEXT_CACHE_EVIDENCE = 65_536


@dataclass(frozen=True, slots=True)
class _Entry:
    ref: EntityRef
    uscc: str | None
    keys: frozenset[str]
    cores: tuple[str, ...]
    address: ParsedAddress
    cell: tuple[int, int] | None


@dataclass(slots=True)
class _PreparedQuery:
    keys: frozenset[str]
    core: str | None
    address: ParsedAddress
    uscc: str | None
    location: tuple[float, float] | None
    metres_per_degree_lng: float  # at the query's latitude


class _TextEvidence(NamedTuple):
    """What a record's name, address and code say about one entity: the same for every report that
    writes them alike, so it is kept per query text while the index is unchanged."""

    name: NameAgreement
    name_weight: float
    address: AddressAgreement
    address_weight: float
    uscc_weight: float


@dataclass(slots=True)
class _KnownText:
    """A query text's blocking candidates and, as they are scored, what it says about each."""

    ids: frozenset[str]
    evidence: dict[str, _TextEvidence]


class _Scored(NamedTuple):
    """One candidate; tuples sort best first (highest total, then id). The full Evidence is built only
    for the few candidates that are read."""

    negative_total: float
    entity_id: str
    text: _TextEvidence
    distance_m: float | None
    distance_weight: float

    @property
    def total(self) -> float:
        return -self.negative_total

    @property
    def evidence(self) -> Evidence:
        text = self.text
        return Evidence(
            text.name,
            text.name_weight,
            text.address,
            text.address_weight,
            self.distance_m,
            self.distance_weight,
            text.uscc_weight,
        )


@lru_cache(maxsize=16_384)
def _read_name_and_address(
    name: str | None, address_text: str | None
) -> tuple[frozenset[str], str | None, ParsedAddress]:
    """Name keys, core name and parsed address of a query; the same shop is reported again and again."""
    if looks_like_address(name):
        # A clerk typed the address into the name field: it names no business, but it is an address.
        name, address_text = None, address_text or name
    keys = frozenset(keys_of_one_name(name))
    core = core_name(name) if name and keys else None
    return keys, core or None, parse_address(address_text)


def _lane_key(address: ParsedAddress) -> str | None:
    if address.road is None or address.number is None or not address.lane:
        return None
    return f"{address.road}{address.number}弄"


def _valid_location(lat: float | None, lng: float | None) -> tuple[float, float] | None:
    if lat is None or lng is None or not in_china(lat, lng):
        return None
    return lat, lng


class EntityIndex:
    """An in-memory blocking index over the register; add, update and remove keep it current."""

    def __init__(self, refs: Iterable[EntityRef] = ()) -> None:
        self._entries: dict[str, _Entry] = {}
        self._by_uscc: dict[str, set[str]] = defaultdict(set)
        self._by_name: dict[str, set[str]] = defaultdict(set)
        self._by_address: dict[str, set[str]] = defaultdict(set)
        self._by_lane: dict[str, set[str]] = defaultdict(set)
        self._by_cell: dict[tuple[int, int], set[str]] = defaultdict(set)
        self._roads: Counter[str] = Counter()
        # query text → entity id → what that text says about the entity; any change to the index
        # (another entity at an address, a chain growing) can change it, so every change clears it.
        self._by_text: dict[tuple[object, ...], _KnownText] = {}
        self._evidence_kept = 0  # in all of _by_text
        self.version = 0  # counts every change, for readers that keep tables of their own (service/residents)
        for ref in refs:
            self.add(ref)

    # ---- keeping the index -------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self._entries

    def refs(self) -> list[EntityRef]:
        """Every indexed entity."""
        return [entry.ref for entry in self._entries.values()]

    def get(self, entity_id: str) -> EntityRef | None:
        entry = self._entries.get(entity_id)
        return entry.ref if entry is not None else None

    def add(self, ref: EntityRef) -> None:
        """Indexes an entity; an entity already indexed under the same id is replaced."""
        if ref.id in self._entries:
            self.remove(ref.id)
        self._forget_texts()
        self.version += 1
        names = (ref.name, ref.legal_name, *ref.aliases)
        address = parse_address(ref.address)
        location = _valid_location(ref.lat, ref.lng)
        entry = _Entry(
            ref=ref,
            uscc=valid_uscc_or_none(ref.uscc),
            keys=frozenset(name_keys(ref.name, ref.legal_name, ref.aliases)),
            cores=tuple(dict.fromkeys(core for text in names if text and (core := core_name(text)))),
            address=address,
            cell=grid_cell(*location, cell_m=GRID_CELL_M) if location is not None else None,
        )
        self._entries[ref.id] = entry
        for bucket in self._buckets(entry):
            bucket.add(ref.id)
        if address.road is not None:
            self._roads[address.road] += 1

    def remove(self, entity_id: str) -> None:
        """Drops an entity from every index; unknown ids are ignored."""
        entry = self._entries.pop(entity_id, None)
        if entry is None:
            return
        self._forget_texts()
        self.version += 1
        for bucket in self._buckets(entry):
            bucket.discard(entity_id)
        self._prune_empty_buckets(entry)
        if entry.address.road is not None:
            self._roads[entry.address.road] -= 1
            if self._roads[entry.address.road] <= 0:
                del self._roads[entry.address.road]

    def update(self, ref: EntityRef) -> None:
        """Re-indexes an entity whose names, code, address or location changed."""
        self.add(ref)

    def add_alias(self, entity_id: str, name: str) -> bool:
        """Learns another name for an entity (an operator linked a record by hand); False if unknown."""
        entry = self._entries.get(entity_id)
        if entry is None or not keys_of_one_name(name):
            return False
        if name in entry.ref.aliases or name in (entry.ref.name, entry.ref.legal_name):
            return True
        self.add(dataclasses.replace(entry.ref, aliases=(*entry.ref.aliases, name)))
        return True

    def _buckets(self, entry: _Entry) -> list[set[str]]:
        buckets = [self._by_name[key] for key in entry.keys]
        if entry.uscc is not None:
            buckets.append(self._by_uscc[entry.uscc])
        if entry.address.key is not None:
            buckets.append(self._by_address[entry.address.key])
        lane = _lane_key(entry.address)
        if lane is not None:
            buckets.append(self._by_lane[lane])
        if entry.cell is not None:
            buckets.append(self._by_cell[entry.cell])
        return buckets

    def _prune_empty_buckets(self, entry: _Entry) -> None:
        for key in entry.keys:
            if not self._by_name.get(key):
                self._by_name.pop(key, None)
        pairs: list[tuple[dict[str, set[str]], str | None]] = [
            (self._by_uscc, entry.uscc),
            (self._by_address, entry.address.key),
            (self._by_lane, _lane_key(entry.address)),
        ]
        for index, bucket_key in pairs:
            if bucket_key is not None and not index.get(bucket_key):
                index.pop(bucket_key, None)
        if entry.cell is not None and not self._by_cell.get(entry.cell):
            self._by_cell.pop(entry.cell, None)

    # ---- matching ----------------------------------------------------------------------

    def match(self, query: MatchQuery, thresholds: MatchThresholds = DEFAULT_THRESHOLDS) -> MatchResult:
        """Links the query to one entity when the evidence is clear; otherwise returns candidates only."""
        prepared = self._prepare(query)
        ranked = self._rank(prepared, thresholds)

        via_uscc = self._link_by_uscc(prepared, ranked)
        if via_uscc is not None:
            return MatchResult(via_uscc.entity_id, "uscc", via_uscc.evidence.score, self._top(ranked, thresholds))
        if prepared.uscc is not None and any(s.text.uscc_weight > 0 for s in ranked):
            # The code points at an entity that contradicts it in name and address: a valid-looking
            # typo. Judge the record as if it carried no code.
            prepared = dataclasses.replace(prepared, uscc=None)
            ranked = self._rank(prepared, thresholds)

        candidates = self._top(ranked, thresholds)
        if not ranked:
            return MatchResult(None, "none", 0.0, candidates)
        best = ranked[0]
        runner_up = ranked[1] if len(ranked) > 1 else None
        method = self._link_method(best, runner_up, thresholds)
        if method is None:
            return MatchResult(None, "none", best.evidence.score, candidates)
        return MatchResult(best.entity_id, method, best.evidence.score, candidates)

    def candidates_for(self, query: MatchQuery, limit: int = 5) -> list[Candidate]:
        """The best few entities for a query, best first, whether or not any would be linked."""
        thresholds = dataclasses.replace(DEFAULT_THRESHOLDS, candidate_limit=limit)
        return self._top(self._rank(self._prepare(query), thresholds), thresholds)

    def _prepare(self, query: MatchQuery) -> _PreparedQuery:
        keys, core, address = _read_name_and_address(query.name, query.address)
        location = _valid_location(query.lat, query.lng)
        return _PreparedQuery(
            keys=keys,
            core=core,
            address=self._canonical_roads(address),
            uscc=valid_uscc_or_none(query.uscc),
            location=location,
            metres_per_degree_lng=metres_per_degree_lng(location[0]) if location else 0.0,
        )

    def _canonical_road(self, road: str) -> str:
        """The register's road that ``road`` ends with, when the parser kept an unknown prefix (静安临汾路)."""
        if road in self._roads:
            return road
        for start in range(1, len(road) - 1):
            if road[start:] in self._roads:
                return road[start:]
        return road

    def _canonical_roads(self, address: ParsedAddress) -> ParsedAddress:
        if address.road is not None:
            road = self._canonical_road(address.road)
            return address if road == address.road else dataclasses.replace(address, road=road)
        if address.crossing is not None:
            first, second = (self._canonical_road(road) for road in address.crossing)
            crossing = (first, second) if first <= second else (second, first)
            return dataclasses.replace(address, crossing=crossing)
        return address

    def _text_candidate_ids(self, query: _PreparedQuery, thresholds: MatchThresholds) -> frozenset[str]:
        """Entities sharing the record's credit code, a name key, or its address or a near number."""
        ids: set[str] = set()
        if query.uscc is not None:
            ids |= self._by_uscc.get(query.uscc, set())
        for key in query.keys:
            holders = self._by_name.get(key)
            if holders and len(holders) <= thresholds.name_block_limit:
                ids |= holders
        address = query.address
        if address.key is not None and address.road is not None and address.number is not None:
            ids |= self._by_address.get(address.key, set())
            if address.lane:
                ids |= self._by_lane.get(f"{address.road}{address.number}弄", set())
            else:
                for delta in (-6, -4, -2, 2, 4, 6):
                    ids |= self._by_address.get(f"{address.road}{address.number + delta}", set())
        return frozenset(ids)

    def _nearby(self, query: _PreparedQuery, radius_m: float) -> dict[str, float]:
        """Entities within ``radius_m`` and their distances: the grid cells around the point, then a
        flat-earth distance (within 0.1 % of the great circle over the few hundred metres that
        carry weight, and a third of its cost)."""
        if query.location is None:
            return {}
        lat, lng = query.location
        metres_per_deg_lng = query.metres_per_degree_lng
        limit_sq = radius_m * radius_m
        nearby: dict[str, float] = {}
        for cell in cells_within(lat, lng, radius_m, cell_m=GRID_CELL_M):
            for entity_id in self._by_cell.get(cell, ()):
                ref = self._entries[entity_id].ref
                assert ref.lat is not None and ref.lng is not None  # only located entities have a cell
                dy = (ref.lat - lat) * METRES_PER_DEGREE_LAT
                dx = (ref.lng - lng) * metres_per_deg_lng
                squared = dx * dx + dy * dy
                if squared <= limit_sq:
                    nearby[entity_id] = math.sqrt(squared)
        return nearby

    def _distance_m(self, query: _PreparedQuery, entry: _Entry) -> float | None:
        if query.location is None or entry.ref.lat is None or entry.ref.lng is None:
            return None
        dy = (entry.ref.lat - query.location[0]) * METRES_PER_DEGREE_LAT
        dx = (entry.ref.lng - query.location[1]) * query.metres_per_degree_lng
        return math.sqrt(dx * dx + dy * dy)

    def _rank(self, query: _PreparedQuery, thresholds: MatchThresholds) -> list[_Scored]:
        known = self._known_text(query, thresholds)
        nearby = self._nearby(query, thresholds.nearby_radius_m)
        scored: list[_Scored] = []
        for entity_id in known.ids | nearby.keys():
            text = known.evidence.get(entity_id)
            entry = None
            if text is None:
                entry = self._entries[entity_id]
                text = known.evidence[entity_id] = self._text_evidence(query, entry)
                self._evidence_kept += 1
            distance_m = nearby.get(entity_id)
            if distance_m is None and query.location is not None:
                distance_m = self._distance_m(query, entry or self._entries[entity_id])
            weight = distance_weight(distance_m)
            total = PRIOR + text.name_weight + text.address_weight + weight + text.uscc_weight  # as Evidence.total
            scored.append(_Scored(-total, entity_id, text, distance_m, weight))
        scored.sort()
        return scored

    def _known_text(self, query: _PreparedQuery, thresholds: MatchThresholds) -> _KnownText:
        """The candidates and evidence for this query's text, from the last time it came up if unchanged."""
        text_key = (query.keys, query.core, query.address, query.uscc, thresholds.name_block_limit)
        known = self._by_text.pop(text_key, None)
        if known is None:
            known = _KnownText(self._text_candidate_ids(query, thresholds), {})
        while self._by_text and (len(self._by_text) >= TEXT_CACHE_SIZE or self._evidence_kept >= TEXT_CACHE_EVIDENCE):
            oldest = self._by_text.pop(next(iter(self._by_text)))  # the least recently used
            self._evidence_kept -= len(oldest.evidence)
        self._by_text[text_key] = known
        return known

    def _forget_texts(self) -> None:
        self._by_text.clear()
        self._evidence_kept = 0

    def _text_evidence(self, query: _PreparedQuery, entry: _Entry) -> _TextEvidence:
        """What the record's name, address and code say about one entity (the location aside)."""
        name, name_weight = self._name_evidence(query, entry)
        entities_at_key = len(self._by_address.get(entry.address.key, ())) if entry.address.key else 1
        address, address_weight = compare_addresses(query.address, entry.address, entities_at_key)
        return _TextEvidence(name, name_weight, address, address_weight, uscc_weight(query.uscc, entry.uscc))

    def _name_evidence(self, query: _PreparedQuery, entry: _Entry) -> tuple[NameAgreement, float]:
        if not query.keys:
            return NameAgreement.NONE, 0.0
        shared = query.keys & entry.keys
        if shared:
            sharing = min(len(self._by_name.get(key, ())) for key in shared)
            return NameAgreement.EXACT, name_weight_for_exact(sharing)
        if query.core is None or not entry.cores:
            return NameAgreement.NONE, 0.0
        similarity = max(name_similarity(query.core, core) for core in entry.cores)
        return name_agreement_for_similarity(similarity)

    def _link_by_uscc(self, query: _PreparedQuery, ranked: list[_Scored]) -> _Scored | None:
        """The entity holding the record's valid code, unless both name and address contradict it."""
        if query.uscc is None or len(self._by_uscc.get(query.uscc, ())) != 1:
            return None
        holder = next((item for item in ranked if item.text.uscc_weight > 0), None)
        if holder is None:
            return None
        evidence = holder.evidence
        if evidence.name is NameAgreement.CONTRADICTS and evidence.address in (
            AddressAgreement.CONFLICT,
            AddressAgreement.CROSSING_OFF_ROAD,
            AddressAgreement.ROAD_OTHER,
        ):
            return None
        return holder

    def _link_method(self, best: _Scored, runner_up: _Scored | None, thresholds: MatchThresholds) -> str | None:
        """How the best candidate links, or None when the evidence does not allow a link."""
        evidence = best.evidence
        if evidence.score < thresholds.link_score or evidence.name is NameAgreement.CONTRADICTS:
            return None
        if runner_up is not None and evidence.total - runner_up.evidence.total < thresholds.margin:
            return None
        if evidence.name_supports:
            if evidence.address_supports:
                return "name_address"
            return "nearby" if evidence.distance_supports else "name"
        if evidence.address is AddressAgreement.EXACT:
            # Only an address: it must name exactly one entity in the register.
            key = self._entries[best.entity_id].address.key
            if key is not None and len(self._by_address.get(key, ())) == 1:
                return "address"
        return None

    def _top(self, ranked: list[_Scored], thresholds: MatchThresholds) -> list[Candidate]:
        top = [(item, item.evidence) for item in ranked[: thresholds.candidate_limit]]
        return [Candidate(item.entity_id, round(evidence.score, 4), evidence) for item, evidence in top]


__all__ = [
    "DEFAULT_THRESHOLDS",
    "METHODS",
    "Candidate",
    "EntityIndex",
    "EntityRef",
    "MatchQuery",
    "MatchResult",
    "MatchThresholds",
]
