"""Adapter CPU per record: each shipped definition against the Python adapter it replaced.

    .venv/bin/python benchmarks/bench_adapters.py [--repeat 7] [--generated 2000]

For police, city and market: the samples (tests/data/samples; market's CSV and XLSX rows as the
file import reads them) plus records the ingest benchmark's factory makes (police, city), each
parsed by ``DefinitionAdapter`` (service/feeds/definitions/shipped/<source>.toml) and by the
Python adapter it replaced (tests/support/reference_adapters). Prints CPU time
(``time.process_time``, the best of ``--repeat`` rounds, so a shared, loaded machine counts
less) per 1,000 records, rejections included.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.bench_ingest_batch import RecordFactory, load_register  # noqa: E402
from service.feeds.definitions import shipped_adapter  # noqa: E402
from service.formats.fields import RecordRejected  # noqa: E402
from service.formats.files import read_rows  # noqa: E402

SAMPLES = REPO_ROOT / "tests" / "data" / "samples"
NOW = datetime(2026, 12, 31, tzinfo=UTC)
# The Python adapters the definitions replaced, kept as the reference they agree with.
REFERENCES = "tests.support.reference_adapters"


def reference(source: str) -> Any | None:
    try:
        return importlib.import_module(f"{REFERENCES}.{source}")
    except ImportError:
        return None


def records(source: str, generated: int) -> list[dict[str, Any]]:
    if source == "market":
        rows: list[dict[str, Any]] = []
        for name in ("market.csv", "market.xlsx"):
            rows += [row for _, row in read_rows((SAMPLES / name).read_bytes(), name, None)]
        return rows
    items = [json.loads(line) for line in (SAMPLES / f"{source}.jsonl").read_text("utf-8").splitlines() if line.strip()]
    factory = RecordFactory(load_register(), seed=14, days_back=60)
    made = 0
    while made < generated:
        report = factory.next_report()
        if report.source == source:
            items.append(report.body)
            made += 1
    return items


def cpu_per_thousand(parse: Callable[..., Any], items: list[dict[str, Any]], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for item in items:
            try:
                parse(item, now=NOW)
            except RecordRejected:
                pass
        best = min(best, time.process_time() - start)
    return best * 1000 / len(items) * 1000  # ms per 1,000 records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--generated", type=int, default=2000, help="factory records per source (police, city)")
    parser.add_argument("--sources", nargs="+", default=["police", "city", "market"])
    args = parser.parse_args()
    print(f"adapter CPU per 1,000 records (best of {args.repeat}); load average {os.getloadavg()[0]:.2f}")
    for source in args.sources:
        items = records(source, args.generated)
        definition = cpu_per_thousand(shipped_adapter(source).parse, items, args.repeat)
        python = reference(source)
        line = f"  {source:<7} {len(items):>5} records  definition {definition:6.1f} ms"
        if python is not None:
            ratio = definition / cpu_per_thousand(python.parse, items, args.repeat)
            line += f"  python {definition / ratio:6.1f} ms  ({ratio:.2f}×)"
        print(line)


if __name__ == "__main__":
    main()
