"""What one running app holds: created in the lifespan, never at import time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher

from service.auth.secrets import DEFAULT_HASHER
from service.auth.service import KeyCache
from service.auth.tickets import MemoryTicketBook, TicketBook
from service.db.database import Database
from service.metrics import Metrics
from service.ratelimit import RateLimits
from service.settings import Settings

if TYPE_CHECKING:
    from service.feeds.adapters import AdapterRegistry
    from service.feeds.definitions.store import DefinitionCatalog
    from service.feeds.pipeline import IngestPipeline
    from service.feeds.resolver import EntityResolver
    from service.incidents.placement import PlacementRules
    from service.live.hub import Hub


@dataclass
class AppState:
    settings: Settings
    db: Database
    signing_key: str
    rate_limits: RateLimits
    key_cache: KeyCache = field(default_factory=KeyCache)
    tickets: TicketBook = field(default_factory=MemoryTicketBook)  # redeemed ws tickets (auth/tickets.py)
    hasher: PasswordHasher = DEFAULT_HASHER
    metrics: Metrics = field(default_factory=Metrics)
    hub: Hub | None = None
    adapters: AdapterRegistry = field(init=False)
    definitions: DefinitionCatalog = field(init=False)  # keeps adapters in step with stored definitions
    resolver: EntityResolver = field(init=False)
    ingest: IngestPipeline = field(init=False)
    placement_rules: PlacementRules = field(init=False)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    stoppers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def run_in_background(self, name: str, coro: Coroutine[Any, Any, None]) -> None:
        """A long-running task that is cancelled at shutdown; a crash is logged, not swallowed silently."""
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(_log_crash)
        self.tasks.append(task)


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logging.getLogger(__name__).error("background task %s crashed", task.get_name(), exc_info=task.exception())
