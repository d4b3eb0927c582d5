"""Debian's Chromium under Playwright: never a downloaded browser, the same flags everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, CDPSession, Page, Playwright, ViewportSize

from tests.browser.server import APP_INDEX

CHROMIUM = Path("/usr/bin/chromium")
# No sandbox (containers run as root), no GPU, and nothing that phones home or updates itself.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WALL_SIZE: ViewportSize = {"width": 1920, "height": 1080}
PHONE_SIZE: ViewportSize = {"width": 390, "height": 844}


def launch_chromium(playwright: Playwright, extra_args: list[str] | None = None) -> Browser:
    """Headless Chromium from /usr/bin/chromium (Playwright must not fetch one)."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, *(extra_args or [])]
    )


@dataclass(frozen=True)
class PageMemory:
    """One sample of a page's memory, taken right after a full garbage collection."""

    js_heap_used_bytes: int
    js_heap_total_bytes: int
    dom_nodes: int
    event_listeners: int
    documents: int


def open_memory_probe(page: Page) -> CDPSession:
    """A DevTools session on the page with the Performance domain switched on."""
    session = page.context.new_cdp_session(page)
    session.send("Performance.enable")
    return session


def sample_memory(session: CDPSession) -> PageMemory:
    """Collect garbage, then read JSHeapUsedSize and the node and listener counts."""
    session.send("HeapProfiler.collectGarbage")
    answer: dict[str, Any] = session.send("Performance.getMetrics")
    metrics = {m["name"]: m["value"] for m in answer["metrics"]}
    return PageMemory(
        js_heap_used_bytes=int(metrics["JSHeapUsedSize"]),
        js_heap_total_bytes=int(metrics["JSHeapTotalSize"]),
        dom_nodes=int(metrics["Nodes"]),
        event_listeners=int(metrics["JSEventListeners"]),
        documents=int(metrics["Documents"]),
    )


def browser_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None (CI builds and installs both first)."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (make browser-deps installs Debian's chromium)"
    if not APP_INDEX.exists():
        return f"the frontend is not built ({APP_INDEX} is missing; run make frontend)"
    return None
