"""The broker interface: publish bytes, subscribe to them; a backend per URL scheme (encode/broadcaster style).

A broker is a fast path only. It may drop messages (a full subscriber, Redis going away); the
hub notices the gap in seq and reads the ledger, which is the record.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

SUBSCRIBER_QUEUE = 10_000  # messages a slow subscriber may hold before new ones are dropped


class BrokerUnavailable(Exception):
    """Publishing failed; the message is in the ledger, so nothing is lost."""


class Subscription:
    """What one subscriber receives, in publish order. Bounded: when full, new messages are dropped
    and counted (the ledger fills the gap)."""

    def __init__(self, maxsize: int = SUBSCRIBER_QUEUE):
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize)
        self.dropped = 0

    def put(self, message: bytes) -> None:
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped += 1

    async def get(self) -> bytes:
        return await self._queue.get()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        while True:
            yield await self._queue.get()


class Broker(ABC):
    """One channel of messages shared by every worker of one ledger."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()

    @abstractmethod
    async def start(self) -> None:
        """Connect (or start trying to: a broker that is down must not stop the worker from starting)."""

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    async def publish(self, message: bytes) -> None:
        """Send one message to every subscriber of every worker; BrokerUnavailable when it cannot."""

    async def publish_many(self, messages: Iterable[bytes]) -> None:
        """Send several messages in order; backends batch this into one round trip where they can."""
        for message in messages:
            await self.publish(message)

    @abstractmethod
    async def healthy(self) -> bool:
        """True while messages flow both ways."""

    @asynccontextmanager
    async def subscribe(self, maxsize: int = SUBSCRIBER_QUEUE) -> AsyncIterator[Subscription]:
        """Receive every message published from now on, until the block exits."""
        subscription = Subscription(maxsize)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    def _deliver(self, message: bytes) -> None:
        for subscription in tuple(self._subscriptions):
            subscription.put(message)
