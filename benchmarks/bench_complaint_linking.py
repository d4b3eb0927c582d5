"""Linking 12345 work orders to the register from their free text: precision and recall on the project's
labelled orders (tests/support/hotline_orders.py), overall and by case:

    .venv/bin/python benchmarks/bench_complaint_linking.py [--orders N] [--seed N] [--show-errors N]

Each order goes the way a pushed one does: the hotline's shipped definition reads it (the
classify_complaint hook gives its theme), then the resolver links it (service/residents/linking.py)
against the sample register (service/demo/data/registry.csv).

- precision: of the orders linked, the share linked to the entity the order is about (≥ 0.99);
- recall: of the orders about an entity, the share linked to it. Orders about one of several
  shops of a kind on one street, or a chain named without a place, are in the denominator: the
  linker is meant not to link them, and they count against recall.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.support.hotline_orders import generate_orders, measure_linking  # noqa: E402

PRECISION_TARGET = 0.99
DEFAULT_ORDERS = 3000
SEED = 15


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=DEFAULT_ORDERS)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--show-errors", type=int, default=0)
    args = parser.parse_args()
    orders = generate_orders(args.orders, args.seed)
    started = time.perf_counter()
    report = measure_linking(orders)
    seconds = time.perf_counter() - started
    print(f"labelled orders: {report.orders} (seed {args.seed}), {report.about_an_entity} about a register entity")
    print(f"{'case':<16}{'orders':>8}{'linked':>8}{'right':>8}")
    for case, counts in sorted(report.by_case.items()):
        print(f"{case:<16}{counts['orders']:>8}{counts['links']:>8}{counts['correct']:>8}")
    print(
        f"\nlink precision {report.precision:.4f} ({report.correct}/{report.links}, target ≥ {PRECISION_TARGET})"
        f"\nlink recall    {report.recall:.4f} ({report.correct}/{report.about_an_entity})"
        f"\n{report.orders / seconds:,.0f} orders/s (reading, classifying and linking)"
    )
    for labelled, linked, score in report.wrong[: args.show_errors]:
        order = labelled.order
        print("WRONG", labelled.case, labelled.entity_id, "→", linked, score, order["诉求地址"], order["诉求内容"])
    for labelled, score in report.missed[: args.show_errors]:
        print(
            "MISSED", labelled.case, labelled.entity_id, score, labelled.order["诉求地址"], labelled.order["诉求内容"]
        )
    if report.precision < PRECISION_TARGET:
        sys.exit(1)


if __name__ == "__main__":
    main()
