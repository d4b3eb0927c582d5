"""Stats tests: the incident tests' SLA rules, so that a disorder call from days ago is overdue."""

from __future__ import annotations

import json

import pytest

from service.settings import Settings
from tests.support.incidents import SLA_RULES


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"sla_rules": json.dumps(SLA_RULES)})
