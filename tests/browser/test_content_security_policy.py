"""The screens under the service's Content-Security-Policy: nothing refused, and they still draw.

Chromium reports every refusal as a `securitypolicyviolation` event and a console error; the test
listens for both from before the first script runs, and works each screen far enough to load
everything it loads: the wall's map, charts and live list; the console's list and
an incident's actions with a photo (a blob: image); the inspector's list and task with the photo;
an entity's file; the login page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from playwright.sync_api import ConsoleMessage, Page

from service.headers import PAGE_POLICY
from tests.browser.chromium import PHONE_SIZE
from tests.browser.feeds import RegisteredEntity
from tests.browser.harness import NewPage, ServiceUnderTest
from tests.browser.pages import BROWSER_TEST, WALL_LIVE, log_in
from tests.support.images import png

pytestmark = BROWSER_TEST

LISTEN = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} refused ${e.blockedURI || 'inline'} (${where})`);
});
"""


class Watched:
    """A page whose CSP refusals and console errors are collected from its first script on."""

    def __init__(self, page: Page):
        self.page = page
        self.console_errors: list[str] = []
        page.add_init_script(LISTEN)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def assert_clean(self, screen: str) -> None:
        violations = self.page.evaluate("() => window.__cspViolations")
        assert violations == [], f"{screen}: the policy refused {violations}"
        refused = [e for e in self.console_errors if "Content Security Policy" in e or "Refused to" in e]
        assert refused == [], f"{screen}: {refused}"
        assert self.console_errors == [], f"{screen}: console errors {self.console_errors}"


def _incident_with_a_photo(service: ServiceUnderTest, report_problem: Callable[..., dict[str, Any]],
                           entity: RegisteredEntity) -> int:  # fmt: skip
    incident_id = int(report_problem(entity, code="0402", content="楼道堆放杂物")["incident_id"])
    service.api.assign(incident_id, service.credentials.inspector.username)
    token = service.api.token(service.credentials.operator)
    answer = httpx.post(
        f"{service.base_url}/api/v1/incidents/{incident_id}/attachments",
        files={"file": ("现场.png", png(32, 32, (30, 160, 60)), "image/png")},
        headers={"Authorization": f"Bearer {token}"},
        timeout=15,
    )
    assert answer.status_code == 201, answer.text
    return incident_id


def test_the_pages_are_served_with_the_policy(service: ServiceUnderTest) -> None:
    for path in ("/wall", "/console", "/inspector", "/login", "/entities/LF-000001"):
        answer = httpx.get(f"{service.base_url}{path}", timeout=15)
        assert answer.headers["content-security-policy"] == PAGE_POLICY, path
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_the_wall_draws_under_the_policy(
    service: ServiceUnderTest,
    new_page: NewPage,
    fresh_entity: Callable[[], RegisteredEntity],
    report_problem: Callable[..., dict[str, Any]],
) -> None:
    report_problem(fresh_entity())
    watched = Watched(new_page())
    page = watched.page
    page.goto(f"{service.base_url}/wall#key={service.credentials.display_key}")
    page.wait_for_function(WALL_LIVE, timeout=20_000)
    page.locator('[data-testid="live-row"]').first.wait_for()
    map_box = page.get_by_test_id("wall-map").bounding_box()
    assert map_box is not None and map_box["width"] > 300 and map_box["height"] > 200
    assert page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=wall-map] canvas, [data-testid=wall-map] svg')]"
        ".some((e) => e.getBoundingClientRect().width > 300)"
    ), "the map drew nothing"
    chart = page.get_by_test_id("chart-trend")
    chart.locator("canvas, svg").first.wait_for()
    page.wait_for_timeout(500)  # the charts' first animation frames
    watched.assert_clean("wall")


def test_the_console_the_inspector_and_an_entity_file_work_under_the_policy(
    service: ServiceUnderTest,
    new_page: NewPage,
    fresh_entity: Callable[[], RegisteredEntity],
    report_problem: Callable[..., dict[str, Any]],
) -> None:
    entity = fresh_entity()
    incident_id = _incident_with_a_photo(service, report_problem, entity)

    console = Watched(new_page())
    log_in(console.page, service.base_url, service.credentials.operator, "/console")
    row = console.page.locator(f'[data-testid="incident-row"][data-incident-id="{incident_id}"]')
    if row.count() == 0:
        row = console.page.get_by_test_id("incident-row").first
    row.click()
    console.page.get_by_test_id("incident-actions").wait_for()
    console.page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=incident-actions] img')]"
        ".some((i) => i.src.startsWith('blob:') && i.complete && i.naturalWidth === 32)"
    )
    console.assert_clean("console")

    inspector = Watched(new_page(PHONE_SIZE, is_mobile=True, has_touch=True))
    log_in(inspector.page, service.base_url, service.credentials.inspector, "/inspector")
    card = inspector.page.locator(f'[data-testid="inspector-incident"][data-incident-id="{incident_id}"]')
    card.tap()
    inspector.page.get_by_test_id("inspector-status").wait_for()
    inspector.page.wait_for_function(
        "() => [...document.querySelectorAll('img')].some((i) => i.src.startsWith('blob:') && i.naturalWidth === 32)"
    )
    inspector.assert_clean("inspector")

    dossier = Watched(new_page())
    log_in(dossier.page, service.base_url, service.credentials.operator, "/console")
    dossier.page.goto(f"{service.base_url}/entities/{entity.entity_id}")
    dossier.page.get_by_text(entity.name).first.wait_for()
    dossier.assert_clean("entity file")

    login = Watched(new_page())
    login.page.goto(f"{service.base_url}/login")
    login.page.get_by_test_id("login-username").wait_for()
    login.assert_clean("login")
