"""Rate limits per key and per IP (429 with Retry-After); shared through Redis when there is one."""

from __future__ import annotations

import logging
import math
import time

from fastapi import Request
from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from service.errors import TooManyRequests
from service.settings import Settings

log = logging.getLogger(__name__)


class RateLimits:
    def __init__(self, settings: Settings):
        storage: Storage
        if settings.redis_url:
            storage = storage_from_string("async+" + settings.redis_url, implementation="redispy")  # type: ignore[assignment]
        else:
            storage = MemoryStorage()
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self.ingest_per_key = RateLimitItemPerMinute(settings.ingest_rate_per_key)
        self.ingest_per_ip = RateLimitItemPerMinute(settings.ingest_rate_per_ip)
        self.login_per_ip = RateLimitItemPerMinute(settings.login_rate_per_ip)
        self.login_per_user = RateLimitItemPerMinute(settings.login_rate_per_user)

    async def hit(self, item: RateLimitItemPerMinute, *identifiers: str, cost: int = 1) -> None:
        """Count one request; raise 429 when over the limit. A broken limiter store lets requests through."""
        try:
            allowed = await self._limiter.hit(item, *identifiers, cost=cost)
            if allowed:
                return
            stats = await self._limiter.get_window_stats(item, *identifiers)
        except Exception as exc:  # the limiter must never take ingest down with it
            log.warning("rate limiter unavailable: %s", type(exc).__name__)
            return
        raise TooManyRequests(math.ceil(max(1.0, stats.reset_time - time.time())))


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
