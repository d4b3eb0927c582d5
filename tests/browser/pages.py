"""What a person does on the screens, in Playwright steps the tests share."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.chromium import browser_missing_reason
from tests.browser.server import Login

_MISSING = browser_missing_reason()
# Every browser test module: `pytestmark = BROWSER_TEST` (CI installs Chromium and builds the bundle first).
BROWSER_TEST = [pytest.mark.browser, pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")]

# The wall has taken its snapshot (epoch known) and its stream is open.
WALL_LIVE = "() => window.__wall !== undefined && window.__wall.status === 'live' && window.__wall.epoch !== null"


def open_wall(page: Page, base_url: str, display_key: str, timeout_ms: float = 20_000) -> None:
    """Provision the kiosk as an administrator would (/wall#key=…) and wait until it is live."""
    page.goto(f"{base_url}/wall#key={display_key}")
    page.wait_for_function(WALL_LIVE, timeout=timeout_ms)


def wall_row_selector(incident_id: int) -> str:
    return f'[data-testid="live-row"][data-incident-id="{incident_id}"]'


def log_in(page: Page, base_url: str, login: Login, lands_on: str) -> None:
    """Log in at /login and wait for the page the role lands on."""
    page.goto(f"{base_url}/login")
    page.get_by_test_id("login-username").fill(login.username)
    page.get_by_test_id("login-password").fill(login.password)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(f"{base_url}{lands_on}**")
