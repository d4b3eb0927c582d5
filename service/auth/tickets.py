"""A WebSocket ticket opens one connection: each ticket's id (its jti) is redeemed once, within its life.

Several workers share Redis (CB_REDIS_URL): `SET key NX PX <remaining life>`, so whichever worker
sees a ticket first wins everywhere, and the key disappears when the ticket would have expired
anyway. Without Redis (the embedded default: one process) a heap in memory does the same.

Each worker also remembers what it redeemed itself. If Redis fails, that memory decides alone:
a ticket is then still single-use on each worker (though not across workers) and walls keep
connecting through the outage, the way the live stream itself keeps working without Redis.
"""

from __future__ import annotations

import heapq
import logging
import time
from typing import Protocol

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

KEY_PREFIX = "community-brain:ws-ticket:"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class TicketBook(Protocol):
    async def redeem(self, ticket_id: str, expires_at: float) -> bool:
        """True the first time a ticket that has not expired is shown; False ever after."""
        ...

    async def close(self) -> None: ...


class MemoryTicketBook:
    """Redeemed ticket ids of this process, each kept until its ticket would have expired."""

    def __init__(self) -> None:
        self._redeemed: set[str] = set()
        self._expiries: list[tuple[float, str]] = []  # a heap: the next to forget first

    async def redeem(self, ticket_id: str, expires_at: float) -> bool:
        now = time.time()
        self._forget_expired(now)
        if expires_at <= now or ticket_id in self._redeemed:
            return False
        self._redeemed.add(ticket_id)
        heapq.heappush(self._expiries, (expires_at, ticket_id))
        return True

    def _forget_expired(self, now: float) -> None:
        expiries = self._expiries
        while expiries and expiries[0][0] <= now:
            self._redeemed.discard(heapq.heappop(expiries)[1])

    def __len__(self) -> int:
        return len(self._redeemed)

    async def close(self) -> None:
        self._redeemed.clear()
        self._expiries.clear()


class RedisTicketBook:
    """Redeemed ticket ids shared by every worker through Redis; this worker's memory as the fallback."""

    def __init__(self, url: str):
        self._redis = Redis.from_url(
            url,
            socket_connect_timeout=1.0,
            socket_timeout=1.0,
            # One quick retry at most: a handshake must not hang on an absent Redis.
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), 1),
        )
        self._local = MemoryTicketBook()
        self._outage = False

    async def redeem(self, ticket_id: str, expires_at: float) -> bool:
        if not await self._local.redeem(ticket_id, expires_at):
            return False  # seen here already, or expired: no need to ask Redis
        remaining_ms = int((expires_at - time.time()) * 1000)
        if remaining_ms <= 0:
            return False
        try:
            first = await self._redis.set(KEY_PREFIX + ticket_id, b"1", nx=True, px=remaining_ms)
        except (RedisError, OSError) as exc:
            if not self._outage:
                log.warning(
                    "ws tickets: Redis unavailable (%s); each worker checks its own tickets until it is back",
                    type(exc).__name__,
                )
                self._outage = True
            return True  # this worker had not seen it (above)
        if self._outage:
            log.warning("ws tickets: Redis answers again; tickets are single-use across workers")
            self._outage = False
        return bool(first)

    async def close(self) -> None:
        await self._redis.aclose()
        await self._local.close()


def make_ticket_book(redis_url: str) -> TicketBook:
    """Redis when CB_REDIS_URL names one (several workers); memory otherwise (one process)."""
    if redis_url.startswith(REDIS_SCHEMES):
        return RedisTicketBook(redis_url)
    return MemoryTicketBook()
