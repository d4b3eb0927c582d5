"""A department added by a definition shows on every screen with its own name, short label and
colour, which the frontend reads from GET /api/v1/sources (nothing in it is written per department)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from service.formats.files import write_csv
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


# A department nobody has heard of yet: installed with `feeds add` while the wall is already open.
EMERGENCY = """
source = "emergency_wall"
name = "应急管理"
label = "应急"
colour = "#e8590c"

[transport]
kinds = ["csv"]

[record]
id = "检查编号"

[fields]
name = "单位名称"
address = "地址"

[fields.time]
field = "检查时间"
formats = ["%Y-%m-%d %H:%M"]

[category]
fixed = "fire"
"""


def test_a_department_installed_while_the_wall_is_open_shows_by_its_own_label(
    service: ServiceUnderTest, new_page: NewPage, fresh_entity: Callable[[], RegisteredEntity], tmp_path: Path
) -> None:
    wall = new_page()
    open_wall(wall, service.base_url, service.credentials.display_key)  # loads the departments it knows now
    definition = tmp_path / "emergency.toml"
    definition.write_text(EMERGENCY, encoding="utf-8")
    service.server.cli("feeds", "add", str(definition))
    entity = fresh_entity()
    inspected = (datetime.now() - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    row = {"检查编号": f"YJ-{entity.entity_id}", "单位名称": entity.name, "地址": entity.address, "检查时间": inspected}
    [result] = service.api.upload("emergency_wall", "应急检查.csv", write_csv([row], list(row)))
    assert result["incident_id"]

    badge = wall.locator(wall_row_selector(result["incident_id"])).locator(".live-row__dept b")
    badge.wait_for()  # the report arrives on the live stream; the wall asks for the departments again
    wall.wait_for_function("el => el.textContent.trim() === '应急'", arg=badge.element_handle(), timeout=10_000)
    assert badge.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(232, 89, 12)"  # #e8590c
