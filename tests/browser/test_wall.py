"""The wall: provisioned by /wall#key=…, live within 2 s of an ingest, rides out a restart, whole rows in its list."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

from playwright.sync_api import Page, WebSocket

from tests.browser.chromium import WALL_SIZE
from tests.browser.feeds import RegisteredEntity, call_id, police_call
from tests.browser.harness import NewPage, ServiceUnderTest
from tests.browser.pages import BROWSER_TEST, open_wall, wall_row_selector

pytestmark = BROWSER_TEST

LATENCY_LIMIT_S = 2.0


def _wall_state(page: Page) -> dict[str, Any]:
    state: dict[str, Any] = page.evaluate(
        "() => ({seq: __wall.seq, epoch: __wall.epoch, status: __wall.status, open: __wall.incidentCount})"
    )
    return state


def _seconds_until_row(page: Page, incident_id: int, after: float) -> float:
    """Seconds from `after` (monotonic) until the incident's row is in the live list."""
    page.wait_for_selector(wall_row_selector(incident_id), state="attached", timeout=10_000)
    return time.monotonic() - after


def test_wall_shows_a_new_incident_within_two_seconds(
    service: ServiceUnderTest,
    new_page: NewPage,
    fresh_entity: Callable[[], RegisteredEntity],
    report_problem: Callable[..., dict[str, Any]],
) -> None:
    key = service.credentials.display_key
    page = new_page()
    open_wall(page, service.base_url, key)

    # The key was kept and taken out of the address bar (and so out of the history entry).
    assert urlsplit(page.url).path == "/wall"
    assert "key" not in page.url and key not in page.url
    assert page.evaluate("() => window.location.hash") == ""
    assert page.evaluate("() => localStorage.getItem('cb.wallKey')") == key
    freshness = page.get_by_test_id("freshness")
    assert freshness.get_attribute("data-status") == "live"
    assert "实时" in freshness.inner_text()

    seq_before = _wall_state(page)["seq"]
    entity = fresh_entity()
    result = report_problem(entity)
    posted_at = time.monotonic()  # the POST has returned: the record is committed
    # Conservative: includes Playwright's polling and round trip on top of the page's own delay.
    latency = _seconds_until_row(page, result["incident_id"], posted_at)

    assert latency <= LATENCY_LIMIT_S, f"the wall took {latency:.2f} s to show incident {result['incident_id']}"
    row = page.locator(wall_row_selector(result["incident_id"]))
    assert entity.name in row.inner_text()
    assert _wall_state(page)["seq"] > seq_before
    assert "实时" in freshness.inner_text()
    print(f"ingest → wall row: {latency * 1000:.0f} ms")


def _event_seqs(frames: list[tuple[int, str]]) -> tuple[list[int], list[tuple[int, str, int]]]:
    """(event seqs in arrival order, [(socket number, message type, seq)] of non-event messages)."""
    seqs: list[int] = []
    others: list[tuple[int, str, int]] = []
    for socket_number, payload in frames:
        message = json.loads(payload)
        if message["type"] == "event":
            seqs.append(int(message["seq"]))
        else:
            others.append((socket_number, str(message["type"]), int(message.get("seq", -1))))
    return seqs, others


def test_wall_rides_out_a_server_restart_without_a_reload(
    service: ServiceUnderTest,
    new_page: NewPage,
    fresh_entity: Callable[[], RegisteredEntity],
    report_problem: Callable[..., dict[str, Any]],
) -> None:
    page = new_page()
    sockets: list[WebSocket] = []
    frames: list[tuple[int, str]] = []

    def watch(socket: WebSocket) -> None:
        number = len(sockets)
        sockets.append(socket)
        socket.on("framereceived", lambda payload: frames.append((number, str(payload))))

    page.on("websocket", watch)
    open_wall(page, service.base_url, service.credentials.display_key)
    marker = uuid4().hex
    page.evaluate("marker => { window.__testMarker = marker }", marker)
    time_origin = page.evaluate("() => performance.timeOrigin")

    before = report_problem(fresh_entity())
    page.wait_for_selector(wall_row_selector(before["incident_id"]), state="attached")
    seq_before_restart = _wall_state(page)["seq"]
    epoch = _wall_state(page)["epoch"]

    service.server.stop(kill=True)  # as in a crash: no goodbye on the socket
    freshness = page.get_by_test_id("freshness")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=freshness]').dataset.status === 'reconnecting'", timeout=45_000
    )
    assert "重连中" in freshness.inner_text() and "数据截至" in freshness.inner_text()

    service.server.start()  # same port, same data directory; nothing ingested while it was down
    page.wait_for_function("() => window.__wall.status === 'live'", timeout=30_000)
    after = report_problem(fresh_entity())
    page.wait_for_selector(wall_row_selector(after["incident_id"]), state="attached", timeout=10_000)

    # No reload: the same document, still carrying what the test left on it.
    assert page.evaluate("() => window.__testMarker") == marker
    assert page.evaluate("() => performance.timeOrigin") == time_origin
    assert page.locator(wall_row_selector(before["incident_id"])).count() == 1
    state = _wall_state(page)
    assert state["epoch"] == epoch
    assert state["seq"] > seq_before_restart
    assert "实时" in freshness.inner_text()

    # The stream resumed where it stopped: the second socket asked for since=<last seq> in the same
    # epoch, got no new snapshot, and every event arrived once, in order, with none missing.
    assert len(sockets) >= 2
    resumed = parse_qs(urlsplit(sockets[-1].url).query)
    assert resumed["epoch"] == [str(epoch)]
    assert int(resumed["since"][0]) == seq_before_restart
    seqs, others = _event_seqs(frames)
    snapshots = [(number, seq) for number, kind, seq in others if kind == "snapshot"]
    assert [number for number, _ in snapshots] == [0], f"only the first socket takes a snapshot: {snapshots}"
    assert seqs == sorted(set(seqs)), f"events repeated or out of order: {seqs}"
    ledger = service.api.events_after(snapshots[0][1])
    assert seqs == [event["seq"] for event in ledger["events"]][: len(seqs)]
    assert seqs[-1] == state["seq"]


# Where each row of the live list is against the list's own box, and whether its department
# badges stay inside their column.
ROW_GEOMETRY = """list => {
  const box = list.getBoundingClientRect()
  return [...list.querySelectorAll('[data-testid=live-row]')].map(row => {
    const r = row.getBoundingClientRect()
    const dept = row.querySelector('.live-row__dept').getBoundingClientRect()
    const badges = [...row.querySelectorAll('.live-row__dept b')].map(b => b.getBoundingClientRect())
    return {
      id: row.dataset.incidentId,
      inside: r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5
        && r.left >= box.left - 0.5 && r.right <= box.right + 0.5,
      outside: r.left >= box.right - 0.5 || r.top >= box.bottom - 0.5,
      badges: badges.length,
      badgesFit: badges.every(b =>
        b.left >= dept.left - 0.5 && b.right <= dept.right + 0.5 && b.bottom <= r.bottom + 0.5),
    }
  })
}"""


def test_wall_live_list_shows_whole_rows_and_three_department_badges_fit(
    service: ServiceUnderTest, new_page: NewPage, fresh_entity: Callable[[], RegisteredEntity]
) -> None:
    # More open problems than the list has room for, so that rows run past its bottom edge.
    calls = []
    for _ in range(24):
        entity = fresh_entity()
        calls.append(police_call(
            call_id(), code="0202", address=entity.address, unit_name=entity.name, lat=entity.lat, lng=entity.lng,
        ))  # fmt: skip
    service.api.push("police", calls)

    page = new_page(WALL_SIZE)  # the wall's own resolution
    open_wall(page, service.base_url, service.credentials.display_key)
    live_list = page.get_by_test_id("live-list")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=live-row]').length >= 24")

    rows = live_list.evaluate(ROW_GEOMETRY)
    cut = [row["id"] for row in rows if not row["inside"] and not row["outside"]]
    assert not cut, f"rows cut by the list's edge: {cut}"
    shown = [row for row in rows if row["inside"]]
    assert len(shown) >= 10, f"only {len(shown)} whole rows shown"
    assert all(row["badgesFit"] for row in rows)

    # The widest department cell: a problem reported by all three departments.
    live_list.evaluate("""list => {
      for (const row of list.querySelectorAll('[data-testid=live-row]')) {
        const dept = row.querySelector('.live-row__dept')
        const badge = dept.querySelector('b')
        dept.replaceChildren(...['公安', '市监', '城管'].map(name => {
          const copy = badge.cloneNode()
          copy.textContent = name
          return copy
        }))
      }
    }""")
    rows = live_list.evaluate(ROW_GEOMETRY)
    assert all(row["badges"] == 3 for row in rows)
    overflowing = [row["id"] for row in rows if not row["badgesFit"]]
    assert not overflowing, f"three badges overflow their column in rows {overflowing}"


def test_a_wall_whose_key_is_revoked_while_it_shows_says_so_across_the_screen(
    service: ServiceUnderTest, new_page: NewPage
) -> None:
    key = service.server.cli("keys", "create", "--role", "display", "--label", "wall-to-revoke").splitlines()[-1]
    page = new_page()
    open_wall(page, service.base_url, key)
    assert page.get_by_test_id("unauthorized").count() == 0

    service.server.cli("keys", "revoke", key)  # from the command line: outside every worker's key cache
    notice = page.get_by_test_id("unauthorized")
    notice.wait_for(state="visible", timeout=15_000)
    assert "已被撤销" in notice.inner_text()
    assert _wall_state(page)["status"] == "unauthorized"
