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
    """At 390 px the tabs stay one line each, the page does not scroll sideways, the table does."""
    entity = fresh_entity()
    call = police_call(
        call_id(), code="0202", address=entity.address, unit_name=entity.name, lat=entity.lat, lng=entity.lng
    )
    service.api.push_one("police", call)
    page = new_page(PHONE_SIZE)
    log_in(page, service.base_url, service.credentials.operator, "/console")
    page.get_by_test_id("incident-table").locator("tbody tr").first.wait_for()
    for tab in ("tab-incidents", "tab-unlinked"):
        box = page.get_by_test_id(tab).bounding_box()
        assert box is not None and box["height"] <= 48, f"{tab} wraps onto several lines: {box}"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_SIZE["width"]
    table_wrap = page.get_by_test_id("incident-table").locator("xpath=..")
    assert table_wrap.evaluate("element => element.scrollWidth > element.clientWidth")
