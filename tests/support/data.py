"""Where the tests' data lives: the department samples and their answer key, kept in tests/data."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
# The four departments' samples and truth.csv, the answer key (tests/data/README.md).
SAMPLES = DATA / "samples"
# The feeds the demo ships in the wheel (the same registry, police, city and market.csv as SAMPLES).
DEMO_DATA = REPO / "service" / "demo" / "data"
