"""The console: an operator links a waiting record to its entity with one click; it fits a phone."""

from __future__ import annotations

from collections.abc import Callable

from tests.browser.chromium import PHONE_SIZE
from tests.browser.feeds import RegisteredEntity, call_id, police_call
from tests.browser.harness import NewPage, ServiceUnderTest
from tests.browser.pages import BROWSER_TEST, log_in

pytestmark = BROWSER_TEST


def test_operator_links_an_unlinked_record_with_one_click(
    service: ServiceUnderTest, new_page: NewPage, fresh_entity: Callable[[], RegisteredEntity]
) -> None:
    # A call from a crossing about a shop the register does not know: nothing to link it by, but
    # its location puts the shops around the corner among the candidates.
    near = fresh_entity()
    call = police_call(
        call_id(), code="0602", address="阳曲路临汾路路口", unit_name="无名氏奇异果铺",
        content="顾客与摊主发生消费纠纷", lat=near.lat, lng=near.lng,
    )  # fmt: skip
    pushed = service.api.push_one("police", call)
    waiting = service.api.record("police", call["jjdbh"])
    assert waiting["entity_id"] is None, "the record was linked automatically; the test needs an unlinked one"
    assert waiting["candidates"], "no candidates suggested for the record"

    page = new_page()
    log_in(page, service.base_url, service.credentials.operator, "/console")
    page.get_by_test_id("tab-unlinked").click()
    row = page.locator(f'[data-testid="unlinked-row"][data-record-id="{pushed["record_id"]}"]')
    row.wait_for()
    button = row.get_by_test_id("link-btn").first
    chosen = button.get_attribute("data-entity-id")
    assert chosen

    button.click()  # the one click
    row.wait_for(state="detached")
    assert chosen in page.get_by_test_id("link-message").inner_text()

    linked = service.api.record("police", call["jjdbh"])
    assert linked["entity_id"] == chosen
    assert linked["match_method"] == "operator"
    assert pushed["record_id"] not in {r["id"] for r in service.api.records(linked="false", limit=200)}
    # Its problem moved to the entity (re-run merging).
    assert service.api.incident(linked["incident_id"])["entity_id"] == chosen


def test_console_fits_a_phone(
    service: ServiceUnderTest, new_page: NewPage, fresh_entity: Callable[[], RegisteredEntity]
) -> None:
    """At 390 px the tabs stay one line each, the page does not scroll sideways, the table does; the
    filters are finger-sized, and an incident's actions open as a full-width sheet that closes again."""
    entity = fresh_entity()
    call = police_call(
        call_id(), code="0202", address=entity.address, unit_name=entity.name, lat=entity.lat, lng=entity.lng
    )
    service.api.push_one("police", call)
    page = new_page(PHONE_SIZE, is_mobile=True, has_touch=True)
    log_in(page, service.base_url, service.credentials.operator, "/console")
    page.get_by_test_id("incident-table").locator("tbody tr").first.wait_for()
    for tab in ("tab-incidents", "tab-unlinked"):
        box = page.get_by_test_id(tab).bounding_box()
        assert box is not None and box["height"] <= 48, f"{tab} wraps onto several lines: {box}"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_SIZE["width"]
    table_wrap = page.get_by_test_id("incident-table").locator("xpath=..")
    assert table_wrap.evaluate("element => element.scrollWidth > element.clientWidth")

    width = PHONE_SIZE["width"]
    for control in page.locator(".filters > select, .filters > input, .filters > button").all():
        box = control.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box
        assert box["height"] >= 36, f"a filter too small to tap: {box}"

    page.get_by_test_id("incident-row").first.tap()
    sheet = page.get_by_test_id("incident-actions")
    page.get_by_test_id("assign-btn").wait_for()
    box = sheet.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, f"the actions stick out: {box}"
    assert box["width"] >= width - 2, f"the actions are squeezed beside the list: {box}"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for control in ("actions-close", "assign-select", "assign-btn", "note-text", "note-btn"):
        target = page.get_by_test_id(control)
        target.scroll_into_view_if_needed()
        found = target.bounding_box()
        assert found is not None and found["x"] >= 0 and found["x"] + found["width"] <= width, (control, found)
        assert found["height"] >= 40, f"{control} is too small to tap: {found}"
    page.get_by_test_id("actions-close").tap()
    sheet.wait_for(state="detached")
    assert page.get_by_test_id("incident-table").is_visible()
