"""Incident tests: photos under a directory of their own, and SLA rules short enough to test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.settings import Settings
from tests.support.incidents import SLA_RULES


@pytest.fixture
def attachments_dir(tmp_path: Path) -> Path:
    return tmp_path / "photo-store"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "settings(**overrides): Settings fields for this test's app")


@pytest.fixture
def settings(settings: Settings, attachments_dir: Path, request: pytest.FixtureRequest) -> Settings:
    marker = request.node.get_closest_marker("settings")
    overrides = dict(marker.kwargs) if marker else {}
    return settings.model_copy(
        update={"attachments_dir": attachments_dir, "sla_rules": json.dumps(SLA_RULES), **overrides}
    )
