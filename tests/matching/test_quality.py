"""Linking quality on the sample feeds against their answer key (tests/data/README.md)."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import Any

import pytest

from tests.support.data import REPO, SAMPLES

BENCHMARK = REPO / "benchmarks" / "matching_quality.py"


@pytest.fixture(scope="module")
def quality() -> ModuleType:
    spec = importlib.util.spec_from_file_location("matching_quality", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module's annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=[False, True], ids=["via-adapters", "raw-reader"])
def report(request: pytest.FixtureRequest, quality: ModuleType) -> Any:
    return quality.evaluate(SAMPLES, raw=request.param)


def test_every_sample_record_is_read(report: Any) -> None:
    assert report.rejected == 0
    assert report.records > 2000


def test_precision(report: Any, quality: ModuleType) -> None:
    wrong = "\n".join(quality._describe(*item) for item in report.wrong[:10])
    assert report.precision >= quality.PRECISION_TARGET, f"precision {report.precision:.4f}\n{wrong}"


def test_recall(report: Any, quality: ModuleType) -> None:
    missed = "\n".join(quality._describe(*item) for item in report.missed[:10])
    assert report.recall >= quality.RECALL_TARGET, f"recall {report.recall:.4f}\n{missed}"


def test_records_about_no_entity_are_never_linked(report: Any) -> None:
    assert not [item for item in report.wrong if item[2] is None]
