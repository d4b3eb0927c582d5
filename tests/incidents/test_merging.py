"""Merging reports into incidents (docs/workflow.md, "Reports into incidents"): the rule case by case
and as a property (arrival order never changes the incidents), then through the API — same entity
and category within 72 h, or within 50 m for reports at no entity; bridges merge; the grouping does
not depend on the order of arrival."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.incidents.lifecycle import STATUSES
from service.incidents.merging import (
    IncidentFacts,
    MergeSettings,
    Placement,
    ReportFacts,
    choose_survivor,
    cluster_reports,
    matching_incidents,
    place_report,
    reports_related,
)
from service.matching.geo import METRES_PER_DEGREE_LAT, haversine_m
from tests.conftest import Principals
from tests.support.feeds import XINYUAN, at, city_case, head_seq, ledger_events, market_row, police_call, push_ok
from tests.support.feeds import incident as read_incident

T0 = datetime(2026, 5, 10, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)
RULE = MergeSettings()
BASE = (31.2300, 121.4700)
METRE_LAT = 1 / METRES_PER_DEGREE_LAT  # degrees of latitude per metre


def north(metres: float, east: float = 0.0) -> tuple[float, float]:
    """A point ``metres`` north and ``east`` metres east of BASE."""
    lat = BASE[0] + metres * METRE_LAT
    lng = BASE[1] + east * METRE_LAT / math.cos(math.radians(BASE[0]))
    return (lat, lng)


def report(
    record_id: str,
    at: datetime = T0,
    entity: str | None = "LF-000001",
    category: str = "noise",
    where: tuple[float, float] | None = BASE,
) -> ReportFacts:
    lat, lng = where if where else (None, None)
    return ReportFacts(record_id, entity, category, at, lat, lng)


def incident(
    incident_id: str = "I1",
    times: tuple[datetime, ...] = (T0,),
    entity: str | None = "LF-000001",
    category: str = "noise",
    status: str = "new",
    where: tuple[float, float] | None = BASE,
    locations: tuple[tuple[float, float] | None, ...] = (),
) -> IncidentFacts:
    lat, lng = where if where else (None, None)
    return IncidentFacts(incident_id, entity, category, status, lat, lng, times, min(times), locations)


def joins(r: ReportFacts, i: IncidentFacts, rule: MergeSettings = RULE) -> bool:
    return matching_incidents(r, [i], rule) == [i.incident_id]


# ---- geometry ----------------------------------------------------------------------------------


def test_the_grid_helper_measures_what_it_says() -> None:
    assert haversine_m(*BASE, *north(50)) == pytest.approx(50, abs=0.1)
    assert haversine_m(*BASE, *north(0, 50)) == pytest.approx(50, abs=0.1)


# ---- one report, one incident ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (timedelta(0), True),
        (72 * H, True),  # the window is inclusive
        (-72 * H, True),  # a late-arriving older report joins too
        (72 * H + timedelta(seconds=1), False),
        (-72 * H - timedelta(seconds=1), False),
    ],
)
def test_window(offset: timedelta, expected: bool) -> None:
    assert joins(report("r", T0 + offset), incident()) is expected


def test_window_counts_from_any_report_in_the_incident() -> None:
    spread = incident(times=(T0, T0 + 100 * H))
    assert joins(report("r", T0 + 150 * H), spread)
    assert joins(report("r", T0 - 50 * H), spread)
    assert not joins(report("r", T0 + 173 * H), spread)


@pytest.mark.parametrize("status", STATUSES)
def test_only_open_incidents_take_reports(status: str) -> None:
    assert joins(report("r"), incident(status=status)) is (status in {"new", "dispatched", "in_progress", "resolved"})


def test_category_must_match() -> None:
    assert not joins(report("r", category="fire"), incident(category="noise"))


def test_entity_decides_for_linked_reports_whatever_the_distance() -> None:
    assert joins(report("r", where=north(5_000)), incident())
    assert joins(report("r", where=None), incident(where=None))
    assert not joins(report("r", entity="LF-000002"), incident())


def test_linked_and_unlinked_never_mix() -> None:
    assert not joins(report("r", entity=None), incident())
    assert not joins(report("r"), incident(entity=None))


@pytest.mark.parametrize(("metres", "expected"), [(0, True), (30, True), (49, True), (51, False), (500, False)])
def test_unlinked_reports_join_within_the_distance(metres: float, expected: bool) -> None:
    assert joins(report("r", entity=None, where=north(metres)), incident(entity=None)) is expected


def test_unlinked_report_without_a_location_joins_nothing() -> None:
    assert not joins(report("r", entity=None, where=None), incident(entity=None))
    assert not joins(report("r", entity=None), incident(entity=None, where=None))
    half = ReportFacts("r", None, "noise", T0, BASE[0], None)
    assert half.location is None
    assert not joins(half, incident(entity=None))


def test_unlinked_distance_and_time_must_hold_for_the_same_report() -> None:
    # The incident's reports: one here at T0, one 80 m away at T0 + 100 h.
    spread = incident(entity=None, times=(T0, T0 + 100 * H), locations=(BASE, north(80)))
    assert joins(report("near-first", T0 + 10 * H, entity=None, where=north(10)), spread)
    assert joins(report("near-second", T0 + 110 * H, entity=None, where=north(70)), spread)
    # Near the first report but in the second's window only, and the other way round.
    assert not joins(report("x", T0 + 110 * H, entity=None, where=north(-10)), spread)
    assert not joins(report("y", T0 - 10 * H, entity=None, where=north(90)), spread)


def test_report_locations_may_hold_gaps() -> None:
    spread = incident(entity=None, times=(T0, T0 + H), locations=(None, north(200)))
    assert not joins(report("r", entity=None), spread)
    assert joins(report("r", entity=None, where=north(210)), spread)


def test_report_locations_must_run_parallel_to_times() -> None:
    with pytest.raises(ValueError, match="one entry per report time"):
        incident(entity=None, times=(T0, T0 + H), locations=(BASE,))


def test_settings_are_honoured() -> None:
    tight = MergeSettings(window=timedelta(hours=1), distance_m=100)
    assert joins(report("r", T0 + H, entity=None, where=north(90)), incident(entity=None), tight)
    assert not joins(report("r", T0 + 2 * H, entity=None), incident(entity=None), tight)
    with pytest.raises(ValueError):
        MergeSettings(window=-H)
    with pytest.raises(ValueError):
        MergeSettings(distance_m=float("nan"))


def test_relation_is_symmetric_on_examples() -> None:
    a = report("a", entity=None)
    b = report("b", T0 + 70 * H, entity=None, where=north(45))
    assert reports_related(a, b, RULE) and reports_related(b, a, RULE)
    assert not reports_related(a, report("c", entity="LF-9"), RULE)


# ---- several incidents -------------------------------------------------------------------------


def test_matching_lists_every_open_candidate_in_order() -> None:
    candidates = [
        incident("I3", (T0 + 60 * H,)),
        incident("I1", (T0 - 60 * H,)),
        incident("I2", (T0,), status="closed"),
        incident("I4", (T0,), entity="LF-000002"),
    ]
    assert matching_incidents(report("r"), candidates, RULE) == ["I3", "I1"]
    assert matching_incidents(report("r"), [], RULE) == []


def test_choose_survivor() -> None:
    assert choose_survivor([("I2", T0 + H), ("I9", T0), ("I5", T0 + H)]) == "I9"
    assert choose_survivor([("I9", T0), ("I1", T0), ("I5", T0)]) == "I1"
    assert choose_survivor(iter([("only", T0)])) == "only"
    with pytest.raises(ValueError):
        choose_survivor([])


def test_place_report() -> None:
    older = incident("I7", (T0 - 50 * H,))
    newer = incident("I2", (T0 + 50 * H,))
    assert place_report(report("r"), [], RULE) == Placement(join=None)
    assert place_report(report("r"), [newer], RULE) == Placement(join="I2")
    assert place_report(report("r"), [newer, older, incident("I3", (T0,))], RULE) == Placement(
        join="I7", absorb=("I2", "I3")
    )


# ---- the batch clustering ----------------------------------------------------------------------


def test_cluster_chains_in_time_and_space() -> None:
    reports = [
        report("t1", T0),
        report("t2", T0 + 60 * H),
        report("t3", T0 + 120 * H),  # 120 h from t1, but t2 bridges them
        report("t4", T0 + 193 * H),  # 73 h after t3: alone
        report("p1", T0, entity=None, where=north(0)),
        report("p2", T0 + H, entity=None, where=north(40)),
        report("p3", T0 + 2 * H, entity=None, where=north(80)),  # 80 m from p1, 40 m from p2
        report("p4", T0 + 3 * H, entity=None, where=north(140)),
        report("lost", T0, entity=None, where=None),
        report("lost2", T0, entity=None, where=None),
        report("f1", T0, category="fire"),
    ]
    assert cluster_reports(reports, RULE) == [
        ["f1"],
        ["lost"],
        ["lost2"],
        ["p1", "p2", "p3"],
        ["t1", "t2", "t3"],
        ["p4"],
        ["t4"],
    ]


def test_cluster_refuses_duplicate_ids() -> None:
    with pytest.raises(ValueError, match="unique"):
        cluster_reports([report("a"), report("a", T0 + H)], RULE)


def test_cluster_of_nothing() -> None:
    assert cluster_reports([], RULE) == []


# ---- order independence ------------------------------------------------------------------------


@dataclass
class SimulatedIncident:
    incident_id: str
    entity_id: str | None
    category: str
    reports: list[ReportFacts]
    status: str = "new"

    def facts(self) -> IncidentFacts:
        first = self.reports[0]
        return IncidentFacts(
            incident_id=self.incident_id,
            entity_id=self.entity_id,
            category=self.category,
            status=self.status,
            lat=first.lat,
            lng=first.lng,
            report_times=tuple(r.occurred_at for r in self.reports),
            first_reported_at=min(r.occurred_at for r in self.reports),
            report_locations=tuple(r.location for r in self.reports),
        )


@dataclass
class SimulatedService:
    """Incidents kept in memory, fed one report at a time as the ingest path would."""

    rule: MergeSettings
    incidents: dict[str, SimulatedIncident] = field(default_factory=dict)

    def ingest(self, r: ReportFacts) -> str:
        candidates = [i.facts() for i in self.incidents.values()]
        matched = matching_incidents(r, candidates, self.rule)
        if not matched:
            new_id = f"I{len(self.incidents):04d}"
            self.incidents[new_id] = SimulatedIncident(new_id, r.entity_id, r.category, [r])
            return new_id
        by_id = {c.incident_id: c for c in candidates}
        survivor_id = choose_survivor((m, by_id[m].first_reported_at) for m in matched)
        survivor = self.incidents[survivor_id]
        for other_id in matched:
            if other_id != survivor_id:
                other = self.incidents[other_id]
                survivor.reports.extend(other.reports)
                # Keep the merged incident's reports: a report wrongly joining it would then
                # vanish from the open incidents and the partitions would differ.
                other.status = "merged"
        survivor.reports.append(r)
        assert survivor.facts().first_reported_at == min(
            [r.occurred_at, *(by_id[m].first_reported_at for m in matched)]
        )
        return survivor_id

    def partition(self) -> set[frozenset[str]]:
        return {frozenset(r.record_id for r in i.reports) for i in self.incidents.values() if i.status != "merged"}


def closed_decoy() -> SimulatedIncident:
    """A closed incident every report of the strategy below would join if it were open."""
    decoy = SimulatedIncident("I-closed", "LF-1", "noise", [], status="closed")
    decoy.reports = [ReportFacts(f"old{h}", "LF-1", "noise", T0 + h * H, *BASE) for h in range(-72, 400, 72)]
    return decoy


STEP_M = 30.0  # grid step: neighbours 30 m apart, diagonals 42 m, two steps 60 m — around the 50 m rule


@st.composite
def report_sets(draw: st.DrawFn) -> list[ReportFacts]:
    count = draw(st.integers(min_value=0, max_value=24))
    reports = []
    for n in range(count):
        entity = draw(st.sampled_from([None, None, "LF-1", "LF-2"]))
        category = draw(st.sampled_from(["noise", "fire"]))
        # Whole hours across two weeks, so reports exactly 72 h apart are common.
        hours = draw(st.integers(min_value=0, max_value=330))
        at = T0 + H * hours + timedelta(minutes=draw(st.sampled_from([0, 0, 1])))
        located = draw(st.booleans()) or draw(st.booleans())
        where = north(STEP_M * draw(st.integers(0, 5)), STEP_M * draw(st.integers(0, 2))) if located else None
        reports.append(report(f"r{n:02d}", at, entity, category, where))
    return reports


@settings(max_examples=150, deadline=None)
@given(reports=report_sets(), data=st.data())
def test_any_arrival_order_gives_the_batch_partition(reports: list[ReportFacts], data: st.DataObject) -> None:
    expected = {frozenset(cluster) for cluster in cluster_reports(reports, RULE)}
    assert sorted(r for cluster in expected for r in cluster) == sorted(r.record_id for r in reports)
    for _ in range(3):
        order = data.draw(st.permutations(reports))
        service = SimulatedService(RULE, {"I-closed": closed_decoy()})
        for r in order:
            service.ingest(r)
        assert service.partition() - {frozenset(f"old{h}" for h in range(-72, 400, 72))} == expected
        # The batch clustering itself ignores input order.
        assert cluster_reports(order, RULE) == cluster_reports(reports, RULE)


def test_first_reported_incident_survives_a_bridge() -> None:
    service = SimulatedService(RULE)
    late = service.ingest(report("late", T0 + 100 * H))
    early = service.ingest(report("early", T0))
    assert late != early
    assert service.ingest(report("bridge", T0 + 50 * H)) == early
    assert service.incidents[late].status == "merged"
    assert service.partition() == {frozenset({"late", "early", "bridge"})}


def test_a_row_of_places_is_one_incident_in_either_order() -> None:
    row = [report(f"p{m}", T0 + m * H, entity=None, where=north(40 * m)) for m in range(3)]
    for order in (row, row[::-1], [row[0], row[2], row[1]]):
        service = SimulatedService(RULE)
        for r in order:
            service.ingest(r)
        assert service.partition() == {frozenset({"p0", "p1", "p2"})}


# ── through the API ───────────────────────────────────────────────────────────────────────────────

THROUGH_THE_API = pytest.mark.usefixtures("registry", "ledger_checked")


# Entities with a signboard name of their own, so name + address links each one surely.
ENTITIES = [
    ("LF-000001", "鑫源快递驿站", "岭南路583号"),
    ("LF-000002", "小朱便利店", "临汾路46号"),
    ("LF-000008", "阿刚奶茶店", "汾西路190号"),
    ("LF-000009", "陈氏口腔诊所", "汾西路443号"),
    ("LF-000010", "阿强理发店", "临汾路809号"),
    ("LF-000011", "阿杰房产中介", "汾西路472号"),
    ("LF-000013", "阿军棋牌室", "临汾路273号"),
    ("LF-000014", "小罗棋牌室", "临汾路779号"),
    ("LF-000016", "周老师培训中心", "闻喜路206号"),
    ("LF-000018", "小赵理发店", "闻喜路85号"),
    ("LF-000019", "老张美甲店", "场中路467号"),
    ("LF-000025", "鑫源火锅店", "临汾路285号"),
    ("LF-000027", "小刘理发店", "阳曲路730号"),
    ("LF-000031", "临汾快递驿站", "临汾路555号"),
]
# Metres to degrees of latitude here (31.3° N); longitude is left alone.
DEG_PER_M = 1 / METRES_PER_DEGREE_LAT
CROSSING = (31.2990, 121.4480)  # a stretch of road, away from the register's doors


async def incident_of(client: httpx.AsyncClient, principals: Principals, source_record_id: str) -> dict[str, Any]:
    response = await client.get(
        "/api/v1/records", params={"source_record_id": source_record_id}, headers=principals.operator
    )
    [record] = response.json()["items"]
    return dict(record)


async def grouping(client: httpx.AsyncClient, principals: Principals, ids: list[str]) -> set[frozenset[str]]:
    """The records' partition into incidents, as the API shows it."""
    by_incident: dict[int, set[str]] = defaultdict(set)
    for source_record_id in ids:
        record = await incident_of(client, principals, source_record_id)
        assert record["incident_id"] is not None, source_record_id
        by_incident[record["incident_id"]].add(source_record_id)
    return {frozenset(group) for group in by_incident.values()}


def call_at(entity: tuple[str, str, str], call_id: str, hours: float, code: str = "0202") -> dict[str, Any]:
    _, name, address = entity
    return police_call(call_id, at(hours), code=code, label="", name=name, address=address, text="噪声扰民")


@THROUGH_THE_API
async def test_window_and_a_bridging_report(client: httpx.AsyncClient, principals: Principals) -> None:
    entity = ENTITIES[0]
    [a] = await push_ok(client, principals.police, "police", call_at(entity, "A", 0))
    [near] = await push_ok(client, principals.police, "police", call_at(entity, "NEAR", 71))
    assert a["entity_id"] == entity[0] and near["incident_id"] == a["incident_id"]  # within 72 h
    [other_category] = await push_ok(client, principals.police, "police", call_at(entity, "FIRE", 1, code="0402"))
    assert other_category["incident_id"] != a["incident_id"]
    [late] = await push_ok(client, principals.police, "police", call_at(entity, "LATE", 71 + 80))
    assert late["incident_id"] != a["incident_id"]  # 80 h after the last report

    seq = await head_seq(client, principals.operator)
    [bridge] = await push_ok(client, principals.police, "police", call_at(entity, "BRIDGE", 71 + 40))
    assert bridge["incident_id"] == a["incident_id"]  # the survivor is the one reported first
    events = await ledger_events(client, principals.operator, since=seq)
    assert [(e["type"], e["incident_id"]) for e in events] == [
        ("report_attached", a["incident_id"]),
        ("merged", late["incident_id"]),
        ("absorbed", a["incident_id"]),
    ]
    assert events[1]["data"]["into"] == a["incident_id"]
    # Each event carries the incident's state after it.
    assert events[0]["incident"]["report_count"] == 3
    assert events[1]["incident"]["status"] == "merged" and events[1]["incident"]["merged_into"] == a["incident_id"]
    assert events[2]["incident"]["report_count"] == 4

    survivor = await read_incident(client, principals.operator, a["incident_id"])
    absorbed = await read_incident(client, principals.operator, late["incident_id"])
    assert survivor["report_count"] == 4 and survivor["status"] == "new"
    assert sorted(r["source_record_id"] for r in survivor["records"]) == ["A", "BRIDGE", "LATE", "NEAR"]
    assert absorbed["status"] == "merged" and absorbed["merged_into"] == a["incident_id"] and absorbed["records"] == []
    assert survivor["version"] == events[2]["incident"]["version"]


@THROUGH_THE_API
async def test_a_bridge_and_other_problems_in_one_batch(client: httpx.AsyncClient, principals: Principals) -> None:
    bridged, other = ENTITIES[2], ENTITIES[3]
    [first] = await push_ok(client, principals.police, "police", call_at(bridged, "E1", 0))
    [second] = await push_ok(client, principals.police, "police", call_at(bridged, "E2", 100))
    assert first["incident_id"] != second["incident_id"]
    batch = [
        call_at(other, "X1", 10),  # opens an incident, not yet written when the bridge merges
        call_at(bridged, "B", 50),  # joins E1's incident and merges E2's into it
        call_at(other, "X2", 60),  # joins X1's incident after the merge
    ]
    results = await push_ok(client, principals.police, "police", batch)
    assert results[1]["incident_id"] == first["incident_id"]
    assert results[2]["incident_id"] == results[0]["incident_id"] != first["incident_id"]
    assert await grouping(client, principals, ["E1", "E2", "B", "X1", "X2"]) == {
        frozenset({"E1", "E2", "B"}),
        frozenset({"X1", "X2"}),
    }
    assert (await read_incident(client, principals.operator, results[0]["incident_id"]))["report_count"] == 2


@THROUGH_THE_API
async def test_closed_incidents_are_not_joined_and_passed_inspections_open_none(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    entity = ENTITIES[1]
    [first] = await push_ok(client, principals.police, "police", call_at(entity, "R1", 0))
    current = await read_incident(client, principals.operator, first["incident_id"])
    rejected = await client.post(
        f"/api/v1/incidents/{first['incident_id']}/status",
        json={"status": "rejected", "note": "not a real problem", "expected_version": current["version"]},
        headers=principals.operator,
    )
    assert rejected.status_code == 200, rejected.text
    [second] = await push_ok(client, principals.police, "police", call_at(entity, "R2", 2))
    assert second["incident_id"] not in (None, first["incident_id"])

    # Market rows pushed as JSON: 通过 is an inspection for the file, not a problem.
    seq = await head_seq(client, principals.operator)
    inspections = [
        market_row(
            f"INS-{i}", date(2026, 10, 5), name=entity[1], address=entity[2], item=item, result="符合", measure="通过"
        )
        for i, item in enumerate(("食品安全", "证照公示", "消防安全", "价格行为"))
    ]
    results = await push_ok(client, principals.market, "market", inspections)
    assert [(r["status"], r["entity_id"], r["incident_id"]) for r in results] == [("created", entity[0], None)] * 4
    assert await ledger_events(client, principals.operator, since=seq) == []


ORDER_CASES: list[tuple[list[float], list[set[int]]]] = [
    # hours of each report → the expected incidents (indexes into the hours)
    ([0, 40, 80], [{0, 1, 2}]),  # 0 and 80 are too far apart, 40 bridges them
    ([0, 40, 100, 150, 300], [{0, 1, 2, 3}, {4}]),
    ([0, 73, 146, 110], [{0}, {1, 2, 3}]),  # 73 h apart each; 110 bridges the last two
]


@THROUGH_THE_API
@pytest.mark.parametrize("batched", [False, True], ids=["one-by-one", "in-one-batch"])
async def test_arrival_order_does_not_change_the_grouping(
    client: httpx.AsyncClient, principals: Principals, batched: bool
) -> None:
    rng = random.Random(20261005)
    entities = iter(ENTITIES)
    checks: list[tuple[list[str], set[frozenset[str]]]] = []
    for case_no, (hours, expected) in enumerate(ORDER_CASES):
        orders = [list(range(len(hours))), list(reversed(range(len(hours))))]
        for _ in range(2):
            orders.append(rng.sample(range(len(hours)), len(hours)))
        for order in orders:
            entity = next(entities)
            ids = [f"O{case_no}-{entity[0]}-{i}" for i in range(len(hours))]
            calls = [call_at(entity, ids[i], hours[i]) for i in order]
            if batched:
                results = await push_ok(client, principals.police, "police", calls)
            else:
                results = [r for call in calls for r in await push_ok(client, principals.police, "police", call)]
            assert all(r["entity_id"] == entity[0] for r in results)
            checks.append((ids, {frozenset(ids[i] for i in group) for group in expected}))
    for ids, expected_groups in checks:
        assert await grouping(client, principals, ids) == expected_groups, ids


def crossing_case(task_id: str, hours: float, north_m: float) -> dict[str, Any]:
    lat, lng = CROSSING
    return city_case(
        task_id,
        at(hours),
        code="09006",
        label="占道经营",
        address="临汾路与汾西路交叉口",
        wgs84=(lat + north_m * DEG_PER_M, lng),
    )


@THROUGH_THE_API
async def test_reports_at_no_entity_merge_within_50_metres(client: httpx.AsyncClient, principals: Principals) -> None:
    [a] = await push_ok(client, principals.city, "city", crossing_case("S-A", 0, 0))
    assert a["entity_id"] is None and a["incident_id"] is not None
    [b] = await push_ok(client, principals.city, "city", crossing_case("S-B", 2, 40))
    assert b["incident_id"] == a["incident_id"]  # 40 m
    [c] = await push_ok(client, principals.city, "city", crossing_case("S-C", 3, -80))
    assert c["incident_id"] != a["incident_id"]  # 80 m from A, 120 m from B
    [far_in_time] = await push_ok(client, principals.city, "city", crossing_case("S-T", 90, 0))
    assert far_in_time["incident_id"] not in (a["incident_id"], c["incident_id"])
    [d] = await push_ok(client, principals.city, "city", crossing_case("S-D", 4, -40))
    assert d["incident_id"] == a["incident_id"]  # 40 m from A and from C: one problem
    assert (await read_incident(client, principals.operator, c["incident_id"]))["status"] == "merged"
    assert await grouping(client, principals, ["S-A", "S-B", "S-C", "S-D", "S-T"]) == {
        frozenset({"S-A", "S-B", "S-C", "S-D"}),
        frozenset({"S-T"}),
    }

    # The same places in other orders, at another crossing, end the same way.
    for round_no, order in enumerate(([3, 2, 1, 0], [2, 0, 3, 1], [1, 3, 0, 2])):
        spots = [(0, 0), (2, 40), (3, -80), (4, -40)]
        ids = [f"S{round_no}-{i}" for i in range(4)]
        shift = (round_no + 1) * 400  # far from the other rounds
        for i in order:
            hours, north = spots[i]
            await push_ok(client, principals.city, "city", crossing_case(ids[i], hours, north + shift))
        assert await grouping(client, principals, ids) == {frozenset(ids)}


@THROUGH_THE_API
async def test_every_step_is_in_the_ledger_with_the_incidents_state(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    entity = XINYUAN
    seq = await head_seq(client, principals.operator)
    batch = [
        police_call("L1", at(0), name=entity[1], address=entity[2]),
        police_call("L2", at(5), name=entity[1], address=entity[2], code="0401", label="火灾"),
    ]
    results = await push_ok(client, principals.police, "police", batch)
    incident_id = results[0]["incident_id"]
    assert results[1]["incident_id"] == incident_id
    events = await ledger_events(client, principals.operator, since=seq)
    assert [e["type"] for e in events] == ["created", "report_attached"]
    assert [e["data"]["source_record_id"] for e in events] == ["L1", "L2"]
    assert [e["incident"]["report_count"] for e in events] == [1, 2]
    assert [e["incident"]["severity"] for e in events] == ["high", "critical"]  # a hazard, then a fire now
    final = await read_incident(client, principals.operator, incident_id)
    assert {k: final[k] for k in events[-1]["incident"]} == events[-1]["incident"]
    assert [e["seq"] for e in final["events"]] == [e["seq"] for e in events]


@THROUGH_THE_API
async def test_a_revision_that_changes_the_category_moves_the_report(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    """A department corrects a call's category: the report leaves its incident for the right one."""
    entity = ENTITIES[1]
    [noise] = await push_ok(client, principals.police, "police", call_at(entity, "N1", 0))
    [second] = await push_ok(client, principals.police, "police", call_at(entity, "N2", 2))
    [fire] = await push_ok(client, principals.police, "police", call_at(entity, "F1", 1, code="0402"))
    assert second["incident_id"] == noise["incident_id"] != fire["incident_id"]

    # N2 was a fire hazard all along.
    [revised] = await push_ok(client, principals.police, "police", call_at(entity, "N2", 2, code="0402"))
    assert revised["status"] == "updated" and revised["incident_id"] == fire["incident_id"]
    left = await read_incident(client, principals.operator, noise["incident_id"])
    joined = await read_incident(client, principals.operator, fire["incident_id"])
    assert [r["source_record_id"] for r in left["records"]] == ["N1"] and left["report_count"] == 1
    assert left["last_reported_at"] == left["first_reported_at"]
    assert sorted(r["source_record_id"] for r in joined["records"]) == ["F1", "N2"] and joined["report_count"] == 2


@THROUGH_THE_API
async def test_a_revision_of_a_lone_report_changes_its_incident_or_merges_it(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    entity = ENTITIES[2]
    [alone] = await push_ok(client, principals.police, "police", call_at(entity, "L1", 0))
    [revised] = await push_ok(client, principals.police, "police", call_at(entity, "L1", 0, code="0402"))
    assert revised["incident_id"] == alone["incident_id"]  # the incident follows its only report
    changed = await read_incident(client, principals.operator, alone["incident_id"])
    assert changed["category"] == "fire" and changed["report_count"] == 1

    [noise] = await push_ok(client, principals.police, "police", call_at(entity, "L2", 5))
    [back] = await push_ok(client, principals.police, "police", call_at(entity, "L1", 0))  # noise after all
    assert back["incident_id"] == noise["incident_id"]  # joins L2's incident: its own is merged into it
    merged = await read_incident(client, principals.operator, alone["incident_id"])
    assert merged["status"] == "merged" and merged["merged_into"] == noise["incident_id"]


@THROUGH_THE_API
async def test_a_revision_that_keeps_the_report_where_it_was_leaves_one_consistent_incident(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    """The report leaves its incident and joins it again in one transaction, which holds that
    incident as a mapped object: placement must change that object, not a second copy of the row."""
    entity = ENTITIES[3]
    [first] = await push_ok(client, principals.police, "police", call_at(entity, "K1", 0))
    [second] = await push_ok(client, principals.police, "police", call_at(entity, "K2", 2))
    assert second["incident_id"] == first["incident_id"]
    seq = await head_seq(client, principals.operator)

    [revised] = await push_ok(client, principals.police, "police", call_at(entity, "K2", 3))  # a later time
    assert revised["status"] == "updated" and revised["incident_id"] == first["incident_id"]
    events = await ledger_events(client, principals.operator, since=seq)
    assert [e["type"] for e in events] == ["report_updated", "report_detached", "report_attached"]
    assert [e["incident"]["report_count"] for e in events] == [2, 1, 2]
    final = await read_incident(client, principals.operator, first["incident_id"])
    assert final["report_count"] == 2 and sorted(r["source_record_id"] for r in final["records"]) == ["K1", "K2"]
    assert {k: final[k] for k in events[-1]["incident"]} == events[-1]["incident"]
