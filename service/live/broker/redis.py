"""The Redis broker (pub/sub): how several workers, or several hosts, share events.

Pub/sub keeps nothing: a message published while a worker is disconnected never reaches it.
That is fine here, because the hub fills every gap from the ledger; the broker only makes the
common case fast. So this backend never blocks or fails its callers for long: publishing fails
fast while Redis is away, and the subscriber reconnects in the background with backoff.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Iterable

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from service.live.broker.base import Broker, BrokerUnavailable

log = logging.getLogger(__name__)

RECONNECT_FIRST_S = 0.1
RECONNECT_MAX_S = 5.0
HEALTH_TIMEOUT_S = 1.0
IDLE_READ_S = 1.0  # how long one read waits; also how often a stop is noticed


def next_backoff(current: float) -> float:
    """Double the wait up to the cap, with jitter so that workers do not reconnect in lockstep."""
    return min(RECONNECT_MAX_S, current * 2) * random.uniform(0.8, 1.2)


class RedisBroker(Broker):
    def __init__(self, url: str, channel: str):
        super().__init__()
        self.url = url
        self.channel = channel
        self._client: Redis | None = None
        self._reader: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self.reconnects = 0

    def _new_client(self) -> Redis:
        return Redis.from_url(
            self.url,
            socket_connect_timeout=1.0,
            socket_timeout=2.0,
            health_check_interval=10,
            # One quick retry at most: a request must never wait on an absent Redis.
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), 1),
        )

    async def start(self) -> None:
        self._client = self._new_client()
        self._reader = asyncio.create_task(self._read_forever(), name=f"redis-broker:{self.channel}")

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self._subscribed.clear()

    async def publish(self, message: bytes) -> None:
        await self.publish_many((message,))

    async def publish_many(self, messages: Iterable[bytes]) -> None:
        if self._client is None:
            raise BrokerUnavailable("the Redis broker is stopped")
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for message in messages:
                    pipe.publish(self.channel, message)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            raise BrokerUnavailable(f"publishing to Redis failed: {type(exc).__name__}") from exc

    async def healthy(self) -> bool:
        if self._client is None or not self._subscribed.is_set():
            return False
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT_S):
                return bool(await self._client.ping())
        except (RedisError, OSError, TimeoutError):
            return False

    async def wait_subscribed(self) -> None:
        """Returns once the subscriber is listening (wrap it in a timeout)."""
        await self._subscribed.wait()

    async def _read_forever(self) -> None:
        backoff = RECONNECT_FIRST_S
        outage_logged = False
        while True:
            assert self._client is not None
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self._subscribed.set()
                if outage_logged:
                    log.warning("Redis broker reconnected; the hub fills what was missed from the ledger")
                backoff, outage_logged = RECONNECT_FIRST_S, False
                await self._pump(pubsub)
            except (RedisError, OSError) as exc:
                self._subscribed.clear()
                if not outage_logged:
                    log.warning(
                        "Redis broker unavailable (%s); live events go through the ledger until it is back",
                        type(exc).__name__,
                    )
                    outage_logged = True
                self.reconnects += 1
                await asyncio.sleep(backoff)
                backoff = next_backoff(backoff)
            finally:
                await _close_quietly(pubsub)

    async def _pump(self, pubsub: PubSub) -> None:
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=IDLE_READ_S)
            if message is not None and message.get("type") == "message":
                data = message["data"]
                self._deliver(data if isinstance(data, bytes) else str(data).encode())


async def _close_quietly(pubsub: PubSub) -> None:
    try:
        await pubsub.aclose()
    except (RedisError, OSError):
        pass
