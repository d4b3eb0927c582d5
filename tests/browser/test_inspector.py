"""The inspector's phone page: its task list in order of urgency, an assigned incident moved to in progress."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.browser.chromium import PHONE_SIZE
from tests.browser.feeds import RegisteredEntity, call_id, local_now, police_call
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


def test_inspector_sees_overdue_tasks_first_then_the_nearest_deadline(
    service: ServiceUnderTest,
    new_page: NewPage,
    fresh_entity: Callable[[], RegisteredEntity],
) -> None:
    inspector = service.credentials.inspector

    def assigned_problem(days_ago: float) -> int:
        entity = fresh_entity()
        call = police_call(
            call_id(), code="0402", address=entity.address, unit_name=entity.name, content="楼道堆放杂物",
            lat=entity.lat, lng=entity.lng, at=local_now(days_ago * 86_400 + 1),
        )  # fmt: skip
        incident_id = int(service.api.push_one("police", call)["incident_id"])
        service.api.assign(incident_id, inspector.username)
        return incident_id

    # Reported newest first, the order the list used to show them in.
    overdue = assigned_problem(days_ago=10)
    earlier_deadline = assigned_problem(days_ago=0.05)
    later_deadline = assigned_problem(days_ago=0)
    assert service.api.incident(overdue)["overdue"] is True
    assert service.api.incident(earlier_deadline)["overdue"] is False

    page = new_page(PHONE_SIZE, is_mobile=True, has_touch=True, device_scale_factor=2)
    log_in(page, service.base_url, inspector, "/inspector")
    cards = page.get_by_test_id("inspector-incident")
    page.locator(f'[data-testid="inspector-incident"][data-incident-id="{later_deadline}"]').wait_for()

    mine = {overdue, earlier_deadline, later_deadline}
    shown = [int(i) for i in cards.evaluate_all("cards => cards.map((c) => c.dataset.incidentId)")]
    assert [i for i in shown if i in mine] == [overdue, earlier_deadline, later_deadline]
    # Every overdue card (other tests' included) comes before every card still in time.
    overdue_flags = cards.evaluate_all("cards => cards.map((c) => c.classList.contains('overdue'))")
    assert overdue_flags == sorted(overdue_flags, reverse=True)

    def age_of(incident_id: int) -> str:
        card = page.locator(f'[data-testid="inspector-incident"][data-incident-id="{incident_id}"]')
        return card.get_by_test_id("inspector-age").inner_text().strip()

    assert age_of(overdue).startswith("超时 ")
    assert age_of(later_deadline).startswith("剩余 ")
