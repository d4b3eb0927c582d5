"""The inspector's phone page: an incident assigned to them, moved to in progress."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.browser.chromium import PHONE_SIZE
from tests.browser.feeds import RegisteredEntity
from tests.browser.harness import NewPage, ServiceUnderTest
from tests.browser.pages import BROWSER_TEST, log_in

pytestmark = BROWSER_TEST


def test_inspector_starts_work_on_an_assigned_incident_from_a_phone(
    service: ServiceUnderTest,
    new_page: NewPage,
    fresh_entity: Callable[[], RegisteredEntity],
    report_problem: Callable[..., dict[str, Any]],
) -> None:
    inspector = service.credentials.inspector
    incident_id = report_problem(fresh_entity(), code="0402", content="楼道堆放杂物堵塞消防通道")["incident_id"]
    assigned = service.api.assign(incident_id, inspector.username)  # assigning dispatches it
    assert assigned["status"] == "dispatched"

    page = new_page(PHONE_SIZE, is_mobile=True, has_touch=True, device_scale_factor=2)
    log_in(page, service.base_url, inspector, "/inspector")
    card = page.locator(f'[data-testid="inspector-incident"][data-incident-id="{incident_id}"]')
    card.tap()
    assert page.get_by_test_id("inspector-status").inner_text() == "已派遣"

    page.get_by_test_id("status-btn-in_progress").tap()
    page.get_by_test_id("inspector-message").wait_for()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=inspector-status]').textContent.trim() === '处置中'"
    )

    incident = service.api.incident(incident_id)
    assert incident["status"] == "in_progress"
    assert incident["assignee"] == inspector.username
    assert incident["version"] > assigned["version"]
    change = [e for e in incident["events"] if e["type"] == "status_changed"][-1]
    assert inspector.username in change["actor"]
