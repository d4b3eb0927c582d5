"""Linking quality against the sample answer key (tests/data/samples/truth.csv).

    .venv/bin/python benchmarks/matching_quality.py [SAMPLES_DIR] [--raw] [--show-errors N]

Builds the matcher index from ``registry.csv``, normalises every sample record with the
department adapters (``--raw`` uses a minimal built-in reader instead), matches each record
once (a resent record counts once, in its last revision) and prints:

- precision: of the links made, the share to the right entity (target ≥ 99.5 %);
- recall: of the records whose truth names an entity, the share linked to it (target ≥ 98 %).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from service.matching.geo import gcj02_to_wgs84  # noqa: E402
from service.matching.matcher import EntityIndex, EntityRef, MatchQuery, MatchResult  # noqa: E402

DEFAULT_SAMPLES = REPO_ROOT / "tests" / "data" / "samples"
PRECISION_TARGET = 0.995
RECALL_TARGET = 0.98
# The adapters reject times far in the future; the samples are dated 2026, so judge them from later.
_REFERENCE_NOW = datetime(2100, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class LabelledQuery:
    source: str
    record_id: str
    query: MatchQuery


@dataclass(slots=True)
class QualityReport:
    records: int = 0
    linkable: int = 0  # truth names an entity
    links_made: int = 0
    correct_links: int = 0
    rejected: int = 0  # records the adapters refused
    by_method: Counter[str] = field(default_factory=Counter)
    wrong: list[tuple[LabelledQuery, MatchResult, str | None]] = field(default_factory=list)
    missed: list[tuple[LabelledQuery, MatchResult, str | None]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def precision(self) -> float:
        return self.correct_links / self.links_made if self.links_made else 1.0

    @property
    def recall(self) -> float:
        return self.correct_links / self.linkable if self.linkable else 1.0

    @property
    def meets_targets(self) -> bool:
        return self.precision >= PRECISION_TARGET and self.recall >= RECALL_TARGET


# ---- the register -----------------------------------------------------------------------------


def _blank_to_none(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def _float_or_none(text: str | None) -> float | None:
    text = (text or "").strip()
    return float(text) if text else None


def load_registry(path: Path) -> list[EntityRef]:
    """The register's rows as EntityRefs (UTF-8 with or without BOM, aliases split on |)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [
            EntityRef(
                id=row["entity_id"].strip(),
                name=row["name"].strip(),
                legal_name=_blank_to_none(row.get("legal_name")),
                aliases=tuple(a.strip() for a in (row.get("aliases") or "").split("|") if a.strip()),
                uscc=_blank_to_none(row.get("uscc")),
                address=_blank_to_none(row.get("address")),
                lat=_float_or_none(row.get("lat")),
                lng=_float_or_none(row.get("lng")),
            )
            for row in csv.DictReader(handle)
        ]


def load_truth(path: Path) -> dict[tuple[str, str], str | None]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {(row["source"], row["source_record_id"]): row["entity_id"] or None for row in csv.DictReader(handle)}


# ---- the records, through the department adapters -------------------------------------------


def _jsonl(path: Path) -> Iterator[dict[str, object]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def records_via_adapters(samples: Path) -> tuple[list[LabelledQuery], int]:
    """Every sample record normalised by its department's adapter; also how many were rejected."""
    from service.feeds.definitions import shipped_adapter
    from service.feeds.normalized import NormalizedRecord
    from service.formats.fields import RecordRejected
    from service.formats.files import read_rows

    police, city, market = (shipped_adapter(source) for source in ("police", "city", "market"))
    normalised: list[NormalizedRecord] = []
    rejected = 0

    def take(parse_one: object, item: dict[str, object]) -> None:
        nonlocal rejected
        try:
            normalised.append(parse_one(item, now=_REFERENCE_NOW))  # type: ignore[operator]
        except RecordRejected:
            rejected += 1

    for item in _jsonl(samples / "police.jsonl"):
        take(police.parse, item)
    for item in _jsonl(samples / "city.jsonl"):
        take(city.parse, item)
    market_file = samples / "market.csv"
    for _line, row in read_rows(market_file.read_bytes(), market_file.name, "text/csv"):
        take(market.parse, row)
    queries = [
        LabelledQuery(
            record.source,
            record.source_record_id,
            MatchQuery(name=record.name, address=record.address, uscc=record.uscc, lat=record.lat, lng=record.lng),
        )
        for record in normalised
    ]
    return queries, rejected


# ---- the records, read directly (a fallback that needs nothing but the matcher) --------------


def records_raw(samples: Path) -> tuple[list[LabelledQuery], int]:
    """A minimal reader of the three sample files: name, address, code and WGS-84 location only."""
    queries: list[LabelledQuery] = []
    for item in _jsonl(samples / "police.jsonl"):
        lat, lng = item.get("wd"), item.get("jd")
        queries.append(
            LabelledQuery(
                "police",
                str(item["jjdbh"]),
                MatchQuery(
                    name=_blank_to_none(str(item.get("dwmc") or "")),
                    address=_blank_to_none(str(item.get("afdz") or "")),
                    lat=float(lat) if isinstance(lat, int | float) else None,
                    lng=float(lng) if isinstance(lng, int | float) else None,
                ),
            )
        )
    for item in _jsonl(samples / "city.jsonl"):
        location = item.get("location")
        lat = lng = None
        if isinstance(location, dict) and location.get("lng") is not None and location.get("lat") is not None:
            lng, lat = float(location["lng"]), float(location["lat"])
            if str(location.get("crs", "GCJ-02")).upper().replace("-", "") == "GCJ02":
                lng, lat = gcj02_to_wgs84(lng, lat)
        queries.append(
            LabelledQuery(
                "city",
                str(item["taskId"]),
                MatchQuery(
                    name=_blank_to_none(str(item.get("shopName") or "")),
                    address=_blank_to_none(str(item.get("address") or "")),
                    lat=lat,
                    lng=lng,
                ),
            )
        )
    with (samples / "market.csv").open(encoding="gbk", newline="") as handle:
        for row in csv.DictReader(handle):
            queries.append(
                LabelledQuery(
                    "market",
                    row["记录编号"].strip(),
                    MatchQuery(
                        name=_blank_to_none(row.get("主体名称")),
                        address=_blank_to_none(row.get("经营场所")),
                        uscc=_blank_to_none(row.get("统一社会信用代码")),
                    ),
                )
            )
    return queries, 0


# ---- evaluation ------------------------------------------------------------------------------


def last_revisions(queries: list[LabelledQuery]) -> list[LabelledQuery]:
    """One query per (source, record id): the last one, as a resend replaces its earlier revision."""
    latest: dict[tuple[str, str], LabelledQuery] = {}
    for labelled in queries:
        latest[(labelled.source, labelled.record_id)] = labelled
    return list(latest.values())


def evaluate(samples: Path, *, raw: bool = False) -> QualityReport:
    """Matches every sample record against the sample register and scores the links against truth."""
    index = EntityIndex(load_registry(samples / "registry.csv"))
    truth = load_truth(samples / "truth.csv")
    queries, rejected = records_raw(samples) if raw else records_via_adapters(samples)
    report = QualityReport(rejected=rejected)
    started = time.perf_counter()
    for labelled in last_revisions(queries):
        key = (labelled.source, labelled.record_id)
        if key not in truth:
            continue
        expected = truth[key]
        result = index.match(labelled.query)
        report.records += 1
        report.by_method[result.method] += 1
        if expected is not None:
            report.linkable += 1
        if result.entity_id is not None:
            report.links_made += 1
            if result.entity_id == expected:
                report.correct_links += 1
            else:
                report.wrong.append((labelled, result, expected))
        elif expected is not None:
            report.missed.append((labelled, result, expected))
    report.seconds = time.perf_counter() - started
    return report


def _describe(labelled: LabelledQuery, result: MatchResult, expected: str | None) -> str:
    query = labelled.query
    top = ", ".join(f"{c.entity_id} {c.score:.2f} [{c.detail}]" for c in result.candidates[:3])
    return (
        f"  {labelled.source} {labelled.record_id}: name={query.name!r} address={query.address!r} "
        f"uscc={query.uscc!r} → {result.entity_id} ({result.method} {result.score:.2f}), truth {expected}; {top}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("samples", nargs="?", type=Path, default=DEFAULT_SAMPLES)
    parser.add_argument("--raw", action="store_true", help="read the sample files directly, not via the adapters")
    parser.add_argument("--show-errors", type=int, default=10, metavar="N", help="list up to N wrong and missed links")
    args = parser.parse_args(argv)

    report = evaluate(args.samples, raw=args.raw)
    print(f"records matched      {report.records}  (rejected by adapters: {report.rejected})")
    print(f"records with entity  {report.linkable}")
    print(f"links made           {report.links_made}  (correct {report.correct_links}, wrong {len(report.wrong)})")
    print(f"precision            {report.precision:.2%}  (target ≥ {PRECISION_TARGET:.1%})")
    print(f"recall               {report.recall:.2%}  (target ≥ {RECALL_TARGET:.1%})")
    print(f"by method            {dict(sorted(report.by_method.items()))}")
    per_record_ms = 1000 * report.seconds / report.records if report.records else 0.0
    print(f"matching time        {per_record_ms:.3f} ms a record")
    if args.show_errors and report.wrong:
        print("wrong links:")
        for item in report.wrong[: args.show_errors]:
            print(_describe(*item))
    if args.show_errors and report.missed:
        print("missed links:")
        for item in report.missed[: args.show_errors]:
            print(_describe(*item))
    return 0 if report.meets_targets else 1


if __name__ == "__main__":
    raise SystemExit(main())
