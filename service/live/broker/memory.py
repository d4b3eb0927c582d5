"""The in-process broker: the embedded default with one worker. One instance per app, never global."""

from __future__ import annotations

from service.live.broker.base import Broker, BrokerUnavailable


class MemoryBroker(Broker):
    def __init__(self) -> None:
        super().__init__()
        self._running = False

    async def start(self) -> None:
        self._running = True

    async def stop(self) -> None:
        self._running = False

    async def publish(self, message: bytes) -> None:
        if not self._running:
            raise BrokerUnavailable("the memory broker is stopped")
        self._deliver(message)

    async def healthy(self) -> bool:
        return self._running
