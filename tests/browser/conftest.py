"""A real server (uvicorn subprocess, SQLite, prepared with the CLI) and Debian's Chromium for the browser tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from tests.browser.api import ServiceApi
from tests.browser.chromium import WALL_SIZE, launch_chromium
from tests.browser.feeds import RegisteredEntity, call_id, load_register, police_call
from tests.browser.harness import NewPage, ServiceUnderTest
from tests.browser.server import ROOT, ServiceProcess

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


# Package scope: the server and the browser go away once the browser tests are done, before the
# rest of the suite (and its asyncio loops) runs.
@pytest.fixture(scope="package")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceUnderTest]:
    # Streams read their key again every second, so a revoked wall key shows within seconds.
    server = ServiceProcess(tmp_path_factory.mktemp("browser-service") / "data", env={"CB_LIVE_RECHECK_S": "1"})
    credentials = server.prepare()
    server.start()
    api = ServiceApi(server.base_url, credentials)
    try:
        yield ServiceUnderTest(server, credentials, api)
    finally:
        api.close()
        server.stop()
    # Whatever the screens did, the server must not have failed on it (JSON log lines, WARNING and up).
    failures = ('"level": "error"', '"level": "critical"', "Traceback")
    errors = [line for line in server.log_tail(100_000).splitlines() if any(f in line for f in failures)]
    assert not errors, "the server logged errors during the browser tests:\n" + "\n".join(errors[:20])


@pytest.fixture(autouse=True)
def _service_running(service: ServiceUnderTest) -> None:
    # A test that stopped the server and failed before starting it again must not take the rest down.
    service.restart_if_down()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[NewPage]:
    """A page in a fresh context (its own storage), 1920×1080 unless a viewport is given."""
    contexts = []

    def make(viewport: ViewportSize | None = None, **options: Any) -> Page:
        context = browser.new_context(viewport=viewport or WALL_SIZE, locale="zh-CN", **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="package")
def register() -> list[RegisteredEntity]:
    return load_register()


@pytest.fixture(scope="package")
def fresh_entity(register: list[RegisteredEntity]) -> Callable[[], RegisteredEntity]:
    """A different entity each call, so one test's problem never merges into another's."""
    numbers = count(7, 13)  # spread over the register
    return lambda: register[next(numbers) % len(register)]


@pytest.fixture
def report_problem(service: ServiceUnderTest) -> Callable[..., dict[str, Any]]:
    """Push one police call about an entity (a new problem there); the ingest result."""

    def report(entity: RegisteredEntity, code: str = "0202", content: str = "店内深夜噪声扰民") -> dict[str, Any]:
        call = police_call(
            call_id(), code=code, address=entity.address, unit_name=entity.name, content=content,
            lat=entity.lat, lng=entity.lng,
        )  # fmt: skip
        result = service.api.push_one("police", call)
        assert result["incident_id"] is not None, result
        return result

    return report


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
