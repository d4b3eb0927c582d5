"""A department added by a definition shows on every screen with its own name, short label and
colour, which the frontend reads from GET /api/v1/sources (nothing in it is written per department)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from tests.browser.feeds import RegisteredEntity
from tests.browser.harness import NewPage, ServiceUnderTest
from tests.browser.pages import BROWSER_TEST, log_in, open_wall, wall_row_selector
from tests.support.new_departments import FIRE_COLUMNS, fire_csv

pytestmark = BROWSER_TEST

FIRE_COLOUR = "rgb(214, 51, 108)"  # #d6336c, service/feeds/definitions/shipped/fire.toml


def test_a_fire_inspection_shows_as_消防_on_the_wall_the_console_and_the_entity_file(
    service: ServiceUnderTest, new_page: NewPage, fresh_entity: Callable[[], RegisteredEntity]
) -> None:
    entity = fresh_entity()
    inspected = (datetime.now() - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    row = dict.fromkeys(FIRE_COLUMNS) | {
        "检查单号": f"XF-BROWSER-{entity.entity_id}", "单位名称": entity.name, "地址": entity.address,
        "检查时间": inspected, "隐患描述": "安全出口锁闭", "隐患等级": "重大", "复查结果": "未复查",
    }  # fmt: skip
    [result] = service.api.upload("fire", "消防检查.csv", fire_csv([row]))
    assert result["entity_id"] == entity.entity_id and result["incident_id"]

    wall = new_page()
    open_wall(wall, service.base_url, service.credentials.display_key)
    badge = wall.locator(wall_row_selector(result["incident_id"])).locator(".live-row__dept b")
    badge.wait_for()
    wall.wait_for_function(
        "el => el.textContent.trim() === '消防'", arg=badge.element_handle(), timeout=10_000
    )  # the name arrives with GET /sources
    assert badge.evaluate("el => getComputedStyle(el).backgroundColor") == FIRE_COLOUR

    console = new_page()
    log_in(console, service.base_url, service.credentials.operator, "/console")
    options = console.get_by_test_id("filter-source").locator("option")
    console.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=filter-source] option')].some(o => o.value === 'fire')"
    )
    labels = dict(zip(options.evaluate_all("os => os.map(o => o.value)"), options.all_inner_texts(), strict=True))
    assert labels["fire"] == "消防救援" and labels["health"] == "卫生健康" and labels["police"] == "公安"

    console.goto(f"{service.base_url}/entities/{entity.entity_id}")
    console.get_by_text("消防救援 1").first.wait_for()
