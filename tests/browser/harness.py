"""The shapes the browser fixtures hand to tests (kept out of conftest so tests can import them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from playwright.sync_api import Page

from tests.browser.api import ServiceApi
from tests.browser.server import Credentials, ServiceProcess

# new_page(viewport=None, **context_options) → a page in a context of its own
NewPage = Callable[..., Page]


@dataclass
class ServiceUnderTest:
    server: ServiceProcess
    credentials: Credentials
    api: ServiceApi

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def restart_if_down(self) -> None:
        if self.server.process is None:
            self.server.start()
