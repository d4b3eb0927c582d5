"""Shared for the adapter and file tests: a fixed clock (the samples come from the `samples` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

# After every sample record; tests pass it as ``now`` so "not in the future" never depends on the day.
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    return NOW
