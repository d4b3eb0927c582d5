"""Every screen at wall size and at phone size, saved under test-artifacts/screenshots/ to look at.

The pages must also render without an uncaught script error; the pictures themselves are for
people (a layout that breaks shows there, not in an assertion).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, ViewportSize

from tests.browser.chromium import PHONE_SIZE, WALL_SIZE
from tests.browser.feeds import CITY_CATEGORIES, RegisteredEntity, call_id, city_case, police_call
from tests.browser.harness import NewPage, ServiceUnderTest
from tests.browser.pages import BROWSER_TEST, WALL_LIVE, log_in

pytestmark = BROWSER_TEST

POLICE_CODES = ["0202", "0402", "0601", "0602", "0302", "0101"]


@dataclass(frozen=True)
class ScreenData:
    entity_id: str  # an entity with records from both departments


@pytest.fixture(scope="module")
def screen_data(service: ServiceUnderTest, fresh_entity: Callable[[], RegisteredEntity]) -> ScreenData:
    """A dozen or so open problems from both departments, two of them the inspector's, one record unlinked."""
    entities = [fresh_entity() for _ in range(12)]
    police, city = [], []
    city_codes = list(CITY_CATEGORIES)
    for i, e in enumerate(entities):
        code = POLICE_CODES[i % len(POLICE_CODES)]
        police.append(police_call(call_id(), code=code, address=e.address, unit_name=e.name, lat=e.lat, lng=e.lng))
        if i < 6:
            code = city_codes[i % len(city_codes)]
            case = city_case(f"C{call_id()}", code=code, address=e.address, shop_name=e.name, lat=e.lat, lng=e.lng)
            city.append(case)
    # And one the matcher leaves to a person: a crossing, a shop the register does not know.
    near = entities[1]
    unknown = police_call(
        call_id(), code="0602", address="汾西路岭南路路口", unit_name="无名氏奇异果铺", lat=near.lat, lng=near.lng
    )
    police.append(unknown)
    results = service.api.push("police", police)
    service.api.push("city", city)
    for result in results[:2]:
        service.api.assign(result["incident_id"], service.credentials.inspector.username)
    return ScreenData(entity_id=entities[0].entity_id)


@dataclass
class Shooter:
    page: Page
    directory: Path
    size: str
    errors: list[str]

    def shoot(self, name: str, full_page: bool = True) -> None:
        self.page.screenshot(path=self.directory / f"{name}-{self.size}.png", full_page=full_page)


@pytest.fixture(params=[WALL_SIZE, PHONE_SIZE], ids=["1920x1080", "390x844"])
def viewport(request: pytest.FixtureRequest) -> ViewportSize:
    size: ViewportSize = request.param
    return size


@pytest.fixture
def shooter_for(new_page: NewPage, viewport: ViewportSize, screenshots: Path) -> Iterator[Callable[[], Shooter]]:
    """A fresh page (own storage) at the viewport; uncaught script errors are collected."""
    shooters: list[Shooter] = []

    def make() -> Shooter:
        phone = viewport["width"] < 600
        page = new_page(viewport, is_mobile=phone, has_touch=phone, device_scale_factor=2 if phone else 1)
        shooter = Shooter(page, screenshots, f"{viewport['width']}x{viewport['height']}", [])
        page.on("pageerror", lambda error: shooter.errors.append(str(error)))
        shooters.append(shooter)
        return shooter

    yield make
    errors = [error for shooter in shooters for error in shooter.errors]
    assert not errors, f"uncaught script errors: {errors}"


def test_screenshots_of_every_screen(
    service: ServiceUnderTest, screen_data: ScreenData, shooter_for: Callable[[], Shooter]
) -> None:
    wall = shooter_for()
    wall.page.goto(f"{service.base_url}/wall#key={service.credentials.display_key}")
    wall.page.wait_for_function(WALL_LIVE)
    wall.page.wait_for_selector('[data-testid="live-row"]')
    wall.page.wait_for_timeout(1500)  # the charts' entry animation
    wall.shoot("wall", full_page=False)

    operator = shooter_for()
    operator.page.goto(f"{service.base_url}/login")
    operator.page.get_by_test_id("login-username").wait_for()
    operator.shoot("login")
    log_in(operator.page, service.base_url, service.credentials.operator, "/console")
    operator.page.get_by_test_id("incident-row").first.wait_for()
    operator.shoot("console")
    operator.page.get_by_test_id("tab-unlinked").click()
    operator.page.get_by_test_id("unlinked-row").first.wait_for()
    operator.shoot("console-unlinked")
    operator.page.goto(f"{service.base_url}/entities/{screen_data.entity_id}")
    operator.page.get_by_test_id("timeline-item").first.wait_for()
    assert operator.page.get_by_test_id("entity-name").inner_text()
    operator.shoot("entity")

    inspector = shooter_for()
    log_in(inspector.page, service.base_url, service.credentials.inspector, "/inspector")
    inspector.page.get_by_test_id("inspector-incident").first.wait_for()
    inspector.shoot("inspector")
    inspector.page.get_by_test_id("inspector-incident").first.click()
    inspector.page.get_by_test_id("inspector-status").wait_for()
    inspector.shoot("inspector-incident")
