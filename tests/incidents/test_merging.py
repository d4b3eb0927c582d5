"""The merging rule, case by case and as a property: arrival order never changes the incidents."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

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
    assert joins(report("r"), incident(status=status)) is (
        status in {"new", "dispatched", "in_progress", "resolved"}
    )


def test_category_must_match() -> None:
    assert not joins(report("r", category="fire"), incident(category="noise"))


def test_entity_decides_for_linked_reports_whatever_the_distance() -> None:
    assert joins(report("r", where=north(5_000)), incident())
    assert joins(report("r", where=None), incident(where=None))
    assert not joins(report("r", entity="LF-000002"), incident())


def test_linked_and_unlinked_never_mix() -> None:
    assert not joins(report("r", entity=None), incident())
    assert not joins(report("r"), incident(entity=None))


@pytest.mark.parametrize(
    ("metres", "expected"), [(0, True), (30, True), (49, True), (51, False), (500, False)]
)
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
        return {
            frozenset(r.record_id for r in i.reports) for i in self.incidents.values() if i.status != "merged"
        }


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
