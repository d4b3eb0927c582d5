"""Linking and merging quality on the departments' samples, measured against their answer key
(tests/data/README.md) through the real ingest path."""

from __future__ import annotations

from pathlib import Path

from service.demo.quality import measure_samples


async def test_quality_on_the_samples(samples: Path) -> None:
    quality = await measure_samples(samples)
    report = "\n".join(quality.lines())
    assert quality.records > 1000, report
    assert quality.link_precision >= 0.995, report
    assert quality.link_recall >= 0.98, report
    assert quality.pair_f1 >= 0.97, report
    assert quality.incidents_for_non_problems == 0, report
