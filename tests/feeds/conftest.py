"""Shared for the adapter and file tests: where the department samples are, and a fixed clock."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

# After every sample record; tests pass it as ``now`` so "not in the future" never depends on the day.
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

_SAMPLE_DIRS = [
    Path(os.environ.get("CB_SAMPLES_DIR", "/work/shared/feeds/samples")),
    Path(__file__).resolve().parents[2] / "service" / "demo" / "data",
]


@pytest.fixture(scope="session")
def samples() -> Path:
    for directory in _SAMPLE_DIRS:
        if (directory / "police.jsonl").exists():
            return directory
    pytest.skip("department samples not found; set CB_SAMPLES_DIR")


@pytest.fixture
def now() -> datetime:
    return NOW
