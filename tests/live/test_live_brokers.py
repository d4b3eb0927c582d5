"""One contract for every broker backend (memory, Redis), plus what only Redis can do: several
processes on one channel, and coming back after the server went away."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable

import pytest

from service.live.broker import Broker, BrokerUnavailable, MemoryBroker, RedisBroker, make_broker
from service.live.broker.base import Subscription
from tests.live.support import RedisServer, free_port, wait_until


async def receive(subscription: Subscription, count: int, within: float = 5.0) -> list[bytes]:
    received: list[bytes] = []
    async with asyncio.timeout(within):
        while len(received) < count:
            received.append(await subscription.get())
    return received


async def _not(check: Awaitable[bool]) -> bool:
    return not await check


async def nothing_arrives(subscription: Subscription, within: float = 0.2) -> bool:
    try:
        async with asyncio.timeout(within):
            await subscription.get()
    except TimeoutError:
        return True
    return False


async def test_subscribers_receive_every_message_in_publish_order(broker: Broker) -> None:
    async with broker.subscribe() as first, broker.subscribe() as second:
        messages = [f"message {i} 事件".encode() for i in range(200)]
        for message in messages[:100]:
            await broker.publish(message)
        await broker.publish_many(messages[100:])
        assert await receive(first, 200) == messages
        assert await receive(second, 200) == messages


async def test_a_subscription_that_ended_receives_nothing_more(broker: Broker) -> None:
    async with broker.subscribe() as staying:
        async with broker.subscribe() as leaving:
            await broker.publish(b"one")
            assert await receive(leaving, 1) == [b"one"]
        await broker.publish(b"two")
        assert await receive(staying, 2) == [b"one", b"two"]
        assert await nothing_arrives(leaving)


async def test_a_subscriber_that_does_not_read_loses_messages_but_never_blocks_the_publisher(
    broker: Broker,
) -> None:
    async with broker.subscribe(maxsize=10) as idle, broker.subscribe() as reader:
        started = time.monotonic()
        for i in range(50):
            await broker.publish(str(i).encode())
        assert time.monotonic() - started < 2
        assert len(await receive(reader, 50)) == 50
        assert await receive(idle, 10) == [str(i).encode() for i in range(10)]
        assert idle.dropped == 40


async def test_healthy_while_running_and_publishing_fails_once_stopped(broker: Broker) -> None:
    assert await broker.healthy()
    await broker.stop()
    assert not await broker.healthy()
    with pytest.raises(BrokerUnavailable):
        await broker.publish(b"after stop")


def test_the_url_chooses_the_backend() -> None:
    assert isinstance(make_broker("", "c"), MemoryBroker)
    assert isinstance(make_broker("memory://", "c"), MemoryBroker)
    assert isinstance(make_broker("redis://127.0.0.1:6379/0", "c"), RedisBroker)
    with pytest.raises(ValueError, match="scheme"):
        make_broker("kafka://somewhere", "c")


@pytest.mark.redis
async def test_redis_carries_messages_between_brokers_and_keeps_channels_apart(redis_url: str, channel: str) -> None:
    publisher, listener, stranger = (
        RedisBroker(redis_url, channel),
        RedisBroker(redis_url, channel),
        RedisBroker(redis_url, channel + ":other"),
    )
    for instance in (publisher, listener, stranger):
        await instance.start()
    try:
        async with asyncio.timeout(5):
            await listener.wait_subscribed()
            await stranger.wait_subscribed()
        async with listener.subscribe() as received, stranger.subscribe() as other:
            await publisher.publish_many([b"a", b"b", b"c"])
            assert await receive(received, 3) == [b"a", b"b", b"c"]
            assert await nothing_arrives(other)
    finally:
        for instance in (publisher, listener, stranger):
            await instance.stop()


@pytest.mark.redis
async def test_redis_broker_survives_the_server_going_away_and_coming_back(
    own_redis: RedisServer, channel: str
) -> None:
    broker = RedisBroker(own_redis.url, channel)
    await broker.start()
    try:
        async with asyncio.timeout(5):
            await broker.wait_subscribed()
        async with broker.subscribe() as subscription:
            await broker.publish(b"before")
            assert await receive(subscription, 1) == [b"before"]

            own_redis.stop()
            started = time.monotonic()
            with pytest.raises(BrokerUnavailable):
                await broker.publish(b"while down")
            assert time.monotonic() - started < 1.5, "publishing must fail fast while Redis is away"
            await wait_until(lambda: _not(broker.healthy()), within=5)

            own_redis.start()
            await wait_until(broker.healthy, within=15)
            await broker.publish(b"after")
            assert await receive(subscription, 1) == [b"after"]
            assert broker.reconnects >= 1
    finally:
        await broker.stop()


async def test_a_redis_broker_that_cannot_connect_still_starts_and_stops(channel: str) -> None:
    broker = RedisBroker(f"redis://127.0.0.1:{free_port()}/0", channel)
    await broker.start()
    assert not await broker.healthy()
    with pytest.raises(BrokerUnavailable):
        await broker.publish(b"x")
    await broker.stop()
