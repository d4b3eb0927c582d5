"""Which open incident a problem report joins (docs/workflow.md, "Reports into incidents"), decided without a database.

Two reports are *related* when they have the same unified category, the same key, and occurred
within ``window`` of each other. The key is the entity when the report is linked to one; for a
report linked to no entity it is its place: both reports unlinked and within ``distance_m`` of
each other. A report with neither entity nor location is related to nothing.

An incident is the set of its reports, and a new report joins every open incident holding a
report related to it. When it joins several, they are merged into the one first reported.
Because joining is decided report-to-report (every report time, every report location, not
the incident's first ones), the incidents built this way are exactly the connected components
of the relation, whatever the order of arrival — ``cluster_reports`` computes them in one go,
and the tests check that the two agree over random permutations.

The distance is measured report to report rather than from one incident location because
"within 50 m of the first report" depends on which report came first: A, B, C 40 m apart in a
row would give {A, B}, {C} in one order and {A}, {B, C} in another.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from service.incidents.lifecycle import OPEN_STATUSES
from service.matching.geo import haversine_m


@dataclass(frozen=True, slots=True)
class MergeSettings:
    """The merging rule's two settings, agreed with the departments."""

    window: timedelta = timedelta(hours=72)
    distance_m: float = 50.0

    def __post_init__(self) -> None:
        if self.window < timedelta(0):
            raise ValueError("the merge window cannot be negative")
        if not self.distance_m >= 0:  # also refuses NaN
            raise ValueError("the merge distance cannot be negative")


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """What merging needs to know about one problem report (a source record that is a problem)."""

    record_id: str
    entity_id: str | None
    category: str
    occurred_at: datetime  # aware
    lat: float | None  # WGS-84
    lng: float | None

    @property
    def location(self) -> tuple[float, float] | None:
        if self.lat is None or self.lng is None:
            return None
        return (self.lat, self.lng)


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """What merging needs to know about one incident.

    ``report_locations``, when given, runs parallel to ``report_times``: the (lat, lng) of each
    report, or None for a report without one. Entity-less incidents need it for order
    independence (see the module docstring); when it is left empty, every report is taken to
    lie at the incident's own (lat, lng).
    """

    incident_id: str
    entity_id: str | None
    category: str
    status: str
    lat: float | None
    lng: float | None
    report_times: tuple[datetime, ...]
    first_reported_at: datetime
    report_locations: tuple[tuple[float, float] | None, ...] = ()

    def __post_init__(self) -> None:
        if self.report_locations and len(self.report_locations) != len(self.report_times):
            raise ValueError("report_locations must have one entry per report time")

    def reports(self) -> Iterable[tuple[datetime, tuple[float, float] | None]]:
        """Each report's time and location."""
        if self.report_locations:
            return zip(self.report_times, self.report_locations, strict=True)
        own = None if self.lat is None or self.lng is None else (self.lat, self.lng)
        return ((at, own) for at in self.report_times)


def _near(a: tuple[float, float] | None, b: tuple[float, float] | None, settings: MergeSettings) -> bool:
    # Haversine on a sphere: at 50 m it is off by well under a metre.
    return a is not None and b is not None and haversine_m(*a, *b) <= settings.distance_m


def _within_window(a: datetime, b: datetime, settings: MergeSettings) -> bool:
    return abs(a - b) <= settings.window


def reports_related(a: ReportFacts, b: ReportFacts, settings: MergeSettings) -> bool:
    """The join relation between two reports; symmetric."""
    if a.category != b.category or not _within_window(a.occurred_at, b.occurred_at, settings):
        return False
    if a.entity_id is not None or b.entity_id is not None:
        return a.entity_id == b.entity_id
    return _near(a.location, b.location, settings)


def may_join(report: ReportFacts, incident: IncidentFacts, settings: MergeSettings) -> bool:
    """True when ``report`` may join ``incident``: open, same category and key, a related report inside."""
    if incident.status not in OPEN_STATUSES or incident.category != report.category:
        return False
    if report.entity_id is not None:
        if incident.entity_id != report.entity_id:
            return False
        return any(_within_window(report.occurred_at, at, settings) for at in incident.report_times)
    if incident.entity_id is not None:
        return False
    here = report.location
    if here is None:
        return False
    return any(
        _within_window(report.occurred_at, at, settings) and _near(here, there, settings)
        for at, there in incident.reports()
    )


def matching_incidents(report: ReportFacts, candidates: Iterable[IncidentFacts], settings: MergeSettings) -> list[str]:
    """The ids of every candidate incident the report may join, in the order given."""
    return [incident.incident_id for incident in candidates if may_join(report, incident, settings)]


def choose_survivor(incident_ids_with_first_reported: Iterable[tuple[str, datetime]]) -> str:
    """The incident the others merge into: the first reported, ties broken by the smaller id."""
    ranked = sorted(incident_ids_with_first_reported, key=lambda pair: (pair[1], pair[0]))
    if not ranked:
        raise ValueError("choose_survivor needs at least one incident")
    return ranked[0][0]


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a report goes: ``join`` is None for a new incident; ``absorb`` merge into ``join``."""

    join: str | None
    absorb: tuple[str, ...] = ()


def place_report(report: ReportFacts, candidates: Sequence[IncidentFacts], settings: MergeSettings) -> Placement:
    """Decide in one call: open a new incident, join one, or join one and merge the others into it."""
    matched = set(matching_incidents(report, candidates, settings))
    if not matched:
        return Placement(join=None)
    facts = [c for c in candidates if c.incident_id in matched]
    survivor = choose_survivor((c.incident_id, c.first_reported_at) for c in facts)
    others = sorted({c.incident_id for c in facts} - {survivor})
    return Placement(join=survivor, absorb=tuple(others))


class _DisjointSets:
    def __init__(self, items: Iterable[str]):
        self._parent = {item: item for item in items}

    def find(self, item: str) -> str:
        root = item
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[item] != root:  # path compression
            self._parent[item], item = root, self._parent[item]
        return root

    def union(self, a: str, b: str) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self._parent[max(root_a, root_b)] = min(root_a, root_b)


def cluster_reports(reports: Iterable[ReportFacts], settings: MergeSettings) -> list[list[str]]:
    """The reference batch clustering: connected components of ``reports_related``.

    Each cluster lists its record ids by (occurred_at, record_id); clusters come in the order of
    their first report. Within one key the reports are swept in time order, so only pairs within
    the window are compared (for an entity, only neighbours in time).
    """
    reports = list(reports)
    by_id = {r.record_id: r for r in reports}
    if len(by_id) != len(reports):
        raise ValueError("record ids must be unique")
    sets = _DisjointSets(by_id)

    groups: dict[tuple[str, ...], list[ReportFacts]] = defaultdict(list)
    for r in reports:
        if r.entity_id is not None:
            groups[("entity", r.category, r.entity_id)].append(r)
        elif r.location is not None:
            groups[("place", r.category)].append(r)
        # neither entity nor location: a cluster of its own

    for key, group in groups.items():
        group.sort(key=lambda r: (r.occurred_at, r.record_id))
        if key[0] == "entity":
            # Time alone decides here: neighbours in time order connect the whole component.
            for earlier, later in itertools.pairwise(group):
                if _within_window(earlier.occurred_at, later.occurred_at, settings):
                    sets.union(earlier.record_id, later.record_id)
            continue
        for i, earlier in enumerate(group):
            for later in group[i + 1 :]:
                if not _within_window(earlier.occurred_at, later.occurred_at, settings):
                    break
                if reports_related(earlier, later, settings):
                    sets.union(earlier.record_id, later.record_id)

    clusters: dict[str, list[ReportFacts]] = defaultdict(list)
    for r in reports:
        clusters[sets.find(r.record_id)].append(r)
    ordered = [sorted(members, key=lambda r: (r.occurred_at, r.record_id)) for members in clusters.values()]
    ordered.sort(key=lambda members: (members[0].occurred_at, members[0].record_id))
    return [[r.record_id for r in members] for members in ordered]


__all__ = [
    "IncidentFacts",
    "MergeSettings",
    "Placement",
    "ReportFacts",
    "choose_survivor",
    "cluster_reports",
    "matching_incidents",
    "may_join",
    "place_report",
    "reports_related",
]
