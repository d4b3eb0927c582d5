"""Linking and merging quality against the answer key: python benchmarks/quality.py [SAMPLES_DIR]"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from service.demo.quality import measure_samples

DEFAULT_SAMPLES = Path(__file__).resolve().parents[1] / "tests" / "data" / "samples"


def main() -> None:
    samples = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SAMPLES
    started = time.perf_counter()
    quality = asyncio.run(measure_samples(samples))
    print(f"quality against {samples / 'truth.csv'}")
    for line in quality.lines():
        print("  " + line)
    print(f"  (measured through the real ingest path in {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
