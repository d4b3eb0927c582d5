"""Linking and merging quality for the departments defined by files (fire, health), on samples
generated from the register with their answer key (tests/support/new_departments.py):

    .venv/bin/python benchmarks/quality_definitions.py [--seed N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.support.data import SAMPLES  # noqa: E402
from tests.support.new_departments import generate, measure_generated  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        samples = generate(SAMPLES / "registry.csv", args.seed)
        samples.write(Path(tmp))
        quality, rejected, _ = asyncio.run(measure_generated(Path(tmp), SAMPLES / "registry.csv"))
    print(f"quality on generated fire/health samples (seed {args.seed}, {len(samples.truth)} records)")
    for line in quality.lines():
        print("  " + line)
    print(f"  rejected                    {sum(len(reasons) for reasons in rejected.values())}")
    print(f"  (measured through the real ingest path in {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
