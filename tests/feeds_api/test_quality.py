"""Linking and merging quality on the departments' samples, measured against their answer key
(feeds/README.md §6) through the real ingest path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from service.demo.quality import measure_samples
from tests.conftest import DEMO_DATA, SAMPLES

FEEDS = ("registry.csv", "police.jsonl", "city.jsonl", "market.csv")
TRUTH = "truth.csv"


def samples_with_truth(tmp_path: Path) -> Path:
    """A directory with the four feeds and truth.csv, or a skip that says what is missing."""
    configured = os.environ.get("CB_SAMPLES_DIR")
    for directory in [Path(configured)] if configured else [SAMPLES]:
        if all((directory / name).exists() for name in (*FEEDS, TRUTH)):
            return directory
    truth = Path(os.environ.get("CB_TRUTH_CSV", SAMPLES / TRUTH))
    if not truth.exists():
        pytest.skip(
            f"the answer key {TRUTH} is not shipped with the repo (looked for {truth}); "
            "set CB_SAMPLES_DIR to the department samples, or CB_TRUTH_CSV to the key"
        )
    # The feeds bundled for the demo, measured against a key kept elsewhere.
    for name in FEEDS:
        (tmp_path / name).symlink_to(DEMO_DATA / name)
    (tmp_path / TRUTH).symlink_to(truth)
    return tmp_path


async def test_quality_on_the_samples(tmp_path: Path) -> None:
    quality = await measure_samples(samples_with_truth(tmp_path))
    report = "\n".join(quality.lines())
    assert quality.records > 1000, report
    assert quality.link_precision >= 0.995, report
    assert quality.link_recall >= 0.98, report
    assert quality.pair_f1 >= 0.97, report
    assert quality.incidents_for_non_problems == 0, report
