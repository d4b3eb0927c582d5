"""Webhook tests: a local receiver, and delivery pacing small enough to watch retries happen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.settings import Settings
from tests.webhooks.receiver import Receiver


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "settings(**overrides): Settings fields for this test's app")


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    marker = request.node.get_closest_marker("settings")
    overrides = dict(marker.kwargs) if marker else {}
    return settings.model_copy(
        update={
            # A long poll: deliveries must come from the wake-up after commit and from retries falling due.
            "webhook_poll_interval_s": 30.0,
            "webhook_timeout_s": 5.0,
            "webhook_backoff_base_s": 0.05,
            "webhook_backoff_cap_s": 0.2,
            "webhook_max_attempts": 50,
            # The receiver listens on loopback, which webhooks may only call when allowed.
            "webhook_allowed_hosts": "127.0.0.1",
            **overrides,
        }
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    hook.start()
    yield hook
    hook.stop()
