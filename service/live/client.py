"""One connected client as the hub sees it: a filter, a bounded queue, and how its stream ended."""

from __future__ import annotations

import asyncio
from enum import Enum

from service.live.filters import LiveFilter
from service.live.protocol import LiveMessage

# What a client queue holds: event messages (deduplicated by seq when sent) and ping texts.
QueueItem = LiveMessage | str


class EndReason(Enum):
    SLOW = "slow"  # its queue overflowed
    LEDGER_REPLACED = "ledger_replaced"  # a restore under a running worker: start over
    SHUTDOWN = "shutdown"


class LiveClient:
    __slots__ = ("ended", "filter", "last_pushed_at", "queue", "registered_at")

    def __init__(self, live_filter: LiveFilter, queue_size: int, registered_at: int, now: float):
        self.filter: LiveFilter | None = None if live_filter.is_empty else live_filter
        self.queue: asyncio.Queue[QueueItem] = asyncio.Queue(queue_size)
        # The hub had delivered every event up to here when this client joined; every later one is queued.
        self.registered_at = registered_at
        self.last_pushed_at = now
        self.ended: asyncio.Future[EndReason] = asyncio.get_running_loop().create_future()

    def end(self, reason: EndReason) -> None:
        if not self.ended.done():
            self.ended.set_result(reason)
        # Free what it held at once: nobody will read it.
        while not self.queue.empty():
            self.queue.get_nowait()
