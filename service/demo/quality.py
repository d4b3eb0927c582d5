"""Measuring linking and merging against an answer key (truth.csv: docs/targets.md, "Quality").

Runs the real ingest path (adapters, matcher, merging, ledger) on a fresh embedded database and
compares what it decided with the key. Used by benchmarks/quality.py and by the quality test.
"""

from __future__ import annotations

import csv
import itertools
import json
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from service.db.migrate import upgrade_async
from service.feeds.service import ingest_file, ingest_push
from service.records.models import SourceRecord
from service.registry.importer import import_registry_file
from service.settings import Settings
from service.state import AppState


@dataclass
class Quality:
    records: int
    linked: int
    linked_correctly: int
    should_link: int
    link_precision: float
    link_recall: float
    pair_precision: float
    pair_recall: float
    pair_f1: float
    incidents_for_non_problems: int

    def lines(self) -> list[str]:
        return [
            f"records                     {self.records}",
            f"linking precision           {self.link_precision:.4f}"
            f"  ({self.linked_correctly}/{self.linked} links right)",
            f"linking recall              {self.link_recall:.4f}"
            f"  (of {self.should_link} records that belong to an entity)",
            f"incident pairwise precision {self.pair_precision:.4f}",
            f"incident pairwise recall    {self.pair_recall:.4f}",
            f"incident pairwise F1        {self.pair_f1:.4f}",
            f"incidents for non-problems  {self.incidents_for_non_problems}",
        ]


async def load_samples(state: AppState, samples: Path) -> None:
    """The register, then every feed in its native format and through its native path."""
    await import_registry_file(state.db, (samples / "registry.csv").read_bytes(), "registry.csv")
    await state.resolver.refresh_now(state.db)
    for source in ("police", "city"):
        items = [json.loads(line) for line in (samples / f"{source}.jsonl").read_text("utf-8").splitlines() if line]
        for start in range(0, len(items), 1000):
            await ingest_push(state, source, f"department:{source}", items[start : start + 1000])
    await ingest_file(state, "market", "import", (samples / "market.csv").read_bytes(), "market.csv", None)


async def measure(state: AppState, truth_csv: Path) -> Quality:
    truth = list(csv.DictReader(truth_csv.open(encoding="utf-8-sig")))
    async with state.db.session() as session:
        rows = (
            await session.execute(
                select(
                    SourceRecord.source,
                    SourceRecord.source_record_id,
                    SourceRecord.entity_id,
                    SourceRecord.incident_id,
                )
            )
        ).all()
    got = {(r.source, r.source_record_id): (r.entity_id, r.incident_id) for r in rows}
    linked = linked_right = should_link = found_right = 0
    true_groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    incidents_for_non_problems = 0
    for row in truth:
        key = (row["source"], row["source_record_id"])
        entity, incident = got.get(key, (None, None))
        if entity:
            linked += 1
            linked_right += entity == row["entity_id"]
        if row["entity_id"]:
            should_link += 1
            found_right += entity == row["entity_id"]
        if row["problem_id"]:
            true_groups[row["problem_id"]].append(key)
        elif incident is not None:
            incidents_for_non_problems += 1
    true_pairs = {frozenset(p) for g in true_groups.values() for p in itertools.combinations(g, 2)}
    by_incident: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for key, (_, incident) in got.items():
        if incident is not None:
            by_incident[incident].append(key)
    got_pairs = {frozenset(p) for g in by_incident.values() for p in itertools.combinations(g, 2)}
    common = len(true_pairs & got_pairs)
    precision = common / len(got_pairs) if got_pairs else 1.0
    recall = common / len(true_pairs) if true_pairs else 1.0
    return Quality(
        records=len(truth),
        linked=linked,
        linked_correctly=linked_right,
        should_link=should_link,
        link_precision=linked_right / linked if linked else 1.0,
        link_recall=found_right / should_link if should_link else 1.0,
        pair_precision=precision,
        pair_recall=recall,
        pair_f1=2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        incidents_for_non_problems=incidents_for_non_problems,
    )


async def measure_samples(samples: Path) -> Quality:
    from service.bootstrap import start_services, stop_services
    from service.metrics import Metrics

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url="", redis_url="", sla_check_interval_s=0)
        await upgrade_async(settings.effective_database_url)
        state = await start_services(settings, Metrics())
        try:
            await load_samples(state, samples)
            return await measure(state, samples / "truth.csv")
        finally:
            await stop_services(state)
