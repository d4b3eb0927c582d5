"""Brokers behind one tiny interface, chosen by URL: empty or memory:// in-process, redis:// for several workers."""

from __future__ import annotations

from service.live.broker.base import Broker, BrokerUnavailable, Subscription
from service.live.broker.memory import MemoryBroker
from service.live.broker.redis import RedisBroker

__all__ = ["Broker", "BrokerUnavailable", "MemoryBroker", "RedisBroker", "Subscription", "make_broker"]

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def make_broker(url: str, channel: str) -> Broker:
    """The broker for CB_REDIS_URL: empty (or memory://) → in-process; a Redis URL → Redis pub/sub."""
    if not url or url.startswith("memory://"):
        return MemoryBroker()
    if url.startswith(REDIS_SCHEMES):
        return RedisBroker(url, channel)
    raise ValueError(f"unknown broker URL scheme in {url.split('://', 1)[0]!r}: use redis:// or memory://")
