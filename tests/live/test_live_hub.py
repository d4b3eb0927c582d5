"""The hub on a real (SQLite) ledger: order, duplicates, gaps, the safety net, slow clients, restores."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.db.database import Database
from service.ledger.service import LedgerPosition, events_after, start_new_epoch
from service.live.broker import MemoryBroker, Subscription
from service.live.client import EndReason, LiveClient
from service.live.filters import LiveFilter
from service.live.hub import FRAME_HEADER, FRAME_MAX_BYTES, Hub, frames
from service.live.protocol import LiveMessage, ResumeRequest, broker_prefix, encode_event, seq_of_event_bytes
from service.live.recent import RecentMessages
from service.live.stream import stream_to_client
from service.metrics import Metrics
from service.settings import Settings
from service.state import AppState
from tests.live.liveapp import change_status, open_incidents, running_state, start_state, stop_state, write_incidents
from tests.live.support import wait_until


def drain(client: LiveClient) -> list[Any]:
    items = []
    while not client.queue.empty():
        item = client.queue.get_nowait()
        items.append(item.seq if isinstance(item, LiveMessage) else json.loads(item))
    return items


# ── ordering, without a database ─────────────────────────────────────────────────────────────────


def _message(seq: int) -> LiveMessage:
    return LiveMessage(seq, encode_event(seq, {"seq": seq}, {"id": seq}))


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 40).flatmap(
        lambda n: st.lists(st.integers(1, n), min_size=0, max_size=3 * n).map(lambda extra: (n, extra))
    ),
    st.randoms(),
)
def test_any_arrival_order_with_duplicates_delivers_each_seq_once_in_order(
    case: tuple[int, list[int]], rng: random.Random
) -> None:
    count, duplicates = case
    arrivals = list(range(1, count + 1)) + duplicates
    rng.shuffle(arrivals)

    async def scenario() -> list[int]:
        hub = Hub(
            db=Database("sqlite+aiosqlite:///:memory:"),
            broker=MemoryBroker(),
            position=LedgerPosition(0, "0" * 64, "E"),
            settings=Settings(ws_client_queue=1000),
            metrics=Metrics(),
        )
        client = hub.register(LiveFilter())
        delivered_so_far: list[int] = []
        for seq in arrivals:
            hub.offer(_message(seq))
            delivered_so_far += drain(client)
            assert delivered_so_far == list(range(1, len(delivered_so_far) + 1))  # always a prefix, no holes
        await hub.db.dispose()
        return delivered_so_far

    assert asyncio.run(scenario()) == list(range(1, count + 1))


# ── with a ledger ───────────────────────────────────────────────────────────────────────────────


@pytest.fixture
def live_settings(sqlite_url: str) -> Settings:
    return Settings(database_url=sqlite_url, live_poll_interval_s=0.1, ws_client_queue=100, ws_ping_after_s=0.2)


@pytest.fixture
async def worker(live_settings: Settings) -> AsyncIterator[AppState]:
    state = await start_state(live_settings)
    try:
        yield state
    finally:
        await stop_state(state)


@pytest.fixture
async def other_worker_db(live_settings: Settings) -> AsyncIterator[Database]:
    """Commits the hub under test never hears about, as if another worker wrote them and the broker lost them."""
    db = Database(live_settings.effective_database_url)
    try:
        yield db
    finally:
        await db.dispose()


def hub_of(state: AppState) -> Hub:
    assert state.hub is not None
    return state.hub


async def queued_seqs(client: LiveClient, count: int, within: float = 5.0) -> list[int]:
    seqs: list[int] = []
    async with asyncio.timeout(within):
        while len(seqs) < count:
            item = await client.queue.get()
            if isinstance(item, LiveMessage):
                seqs.append(item.seq)
    return seqs


def gap_fills(state: AppState) -> float | None:
    return state.metrics.registry.get_sample_value("cb_live_gap_fills_total")


async def seqs_published(subscription: Subscription, count: int, within: float = 5.0) -> list[int]:
    """The seqs of the next ``count`` events on the broker, in the order it carries them."""
    seqs: list[int] = []
    async with asyncio.timeout(within):
        while len(seqs) < count:
            frame = await subscription.get()
            seqs += [seq for line in frame.split(b"\n") if (seq := seq_of_event_bytes(line)) is not None]
    return seqs


async def commit_unheard(db: Database) -> LiveMessage:
    """One event committed by 'another worker' whose broker message this hub never got."""
    [seq] = await write_incidents(db, 1)
    async with db.session() as session:
        [event] = await events_after(session, seq - 1, 1)
    return LiveMessage.from_event(event)


async def test_own_commits_reach_clients_once_though_the_broker_echoes_them(
    live_settings: Settings, other_worker_db: Database
) -> None:
    # No ledger watch here (an hour between polls): the last event below can only come through the broker.
    async with running_state(live_settings.model_copy(update={"live_poll_interval_s": 3600})) as worker:
        hub = hub_of(worker)
        client = hub.register(LiveFilter())
        async with hub.broker.subscribe() as broker_messages:
            seqs = await write_incidents(worker.db, 5) + await write_incidents(worker.db, 10, per_transaction=5)
            assert await queued_seqs(client, 15) == seqs == list(range(1, 16))
            # Every echo is now in the hub's broker queue too, ahead of anything published from here on.
            assert await seqs_published(broker_messages, 15) == seqs
        later = await commit_unheard(other_worker_db)
        await hub.broker.publish_many(frames([(broker_prefix(hub.epoch), later.wire)]))
        # It arrives after the hub has read every echo: had it passed one on, that would come first.
        assert await queued_seqs(client, 1) == [16]
        assert gap_fills(worker) == 0


async def test_ledger_polls_do_not_deliver_own_commits_again(worker: AppState, other_worker_db: Database) -> None:
    hub = hub_of(worker)
    client = hub.register(LiveFilter())
    assert await write_incidents(worker.db, 3) == [1, 2, 3]
    assert await queued_seqs(client, 3) == [1, 2, 3]
    await commit_unheard(other_worker_db)
    # Only a poll of the ledger, later than every commit above, can bring this one.
    assert await queued_seqs(client, 1) == [4]
    assert gap_fills(worker) == 1


async def test_a_gap_is_filled_from_the_ledger_before_later_events_go_out(
    worker: AppState, other_worker_db: Database
) -> None:
    hub = hub_of(worker)
    client = hub.register(LiveFilter())
    await write_incidents(other_worker_db, 3)  # seq 1..3: the broker never carried them
    async with other_worker_db.session() as session:
        third = (await events_after(session, 2, 1))[0]
    hub.offer(LiveMessage.from_event(third))  # seq 3 arrives first
    assert await queued_seqs(client, 3) == [1, 2, 3]
    assert gap_fills(worker) == 2


async def test_with_no_broker_message_at_all_the_ledger_watch_delivers(
    worker: AppState, other_worker_db: Database
) -> None:
    client = hub_of(worker).register(LiveFilter())
    await write_incidents(other_worker_db, 4)
    assert await queued_seqs(client, 4, within=2) == [1, 2, 3, 4]


async def test_a_failing_broker_never_fails_the_commit(worker: AppState) -> None:
    hub = hub_of(worker)
    client = hub.register(LiveFilter())
    await hub.broker.stop()  # publishing now raises BrokerUnavailable inside the hub
    assert await write_incidents(worker.db, 3) == [1, 2, 3]
    assert await queued_seqs(client, 3) == [1, 2, 3]
    await wait_until(lambda: _is(hub.publish_dropped >= 1), within=2)


async def _is(value: bool) -> bool:
    return value


async def test_a_slow_client_is_dropped_without_holding_up_the_others(worker: AppState) -> None:
    hub = hub_of(worker)
    slow, reader = hub.register(LiveFilter()), hub.register(LiveFilter())
    received: list[int] = []
    for _ in range(30):  # the queues hold 100 events; four a transaction
        seqs = await write_incidents(worker.db, 4, per_transaction=4)
        await wait_until(lambda last=seqs[-1]: _is(hub.last_seq == last), within=2)  # type: ignore[misc]
        received += [item for item in drain(reader) if isinstance(item, int)]
    assert received == list(range(1, 121))
    assert slow.ended.done() and slow.ended.result() is EndReason.SLOW
    assert slow.queue.empty()  # released at once
    assert hub.client_count == 1
    assert worker.metrics.registry.get_sample_value("cb_ws_closed_slow_total") == 1


async def test_idle_clients_get_pings_carrying_the_head(worker: AppState) -> None:
    hub = hub_of(worker)
    await write_incidents(worker.db, 2)
    await wait_until(lambda: _is(hub.last_seq == 2), within=2)
    client = hub.register(LiveFilter())
    async with asyncio.timeout(2):
        ping = await client.queue.get()
    assert ping == '{"type":"ping","seq":2}'


async def test_filtered_clients_get_only_their_incidents(worker: AppState) -> None:
    hub = hub_of(worker)
    north = hub.register(LiveFilter(grids=frozenset({"north"})))
    await write_incidents(worker.db, 2, grid="south")
    await write_incidents(worker.db, 2, grid="north")
    assert await queued_seqs(north, 2) == [3, 4]


async def test_a_replaced_ledger_sends_every_client_back_to_a_snapshot(
    worker: AppState, other_worker_db: Database
) -> None:
    hub = hub_of(worker)
    client = hub.register(LiveFilter())
    async with other_worker_db.transaction() as uow:
        _old, new = await start_new_epoch(uow)  # what a restore does
    async with asyncio.timeout(2):
        assert await client.ended is EndReason.LEDGER_REPLACED
    assert hub.epoch == new and hub.client_count == 0


async def test_clients_joining_during_writes_get_a_snapshot_and_then_every_later_event_once(
    worker: AppState, other_worker_db: Database
) -> None:
    """The snapshot/stream join, many times over, with commits from this worker and from 'another'."""
    hub = hub_of(worker)
    await write_incidents(worker.db, 5)
    stop = asyncio.Event()

    async def write(db: Database, change_statuses: bool) -> None:
        while not stop.is_set():
            await write_incidents(db, random.randint(1, 3), per_transaction=3)
            if change_statuses and random.random() < 0.3:
                await change_status(db, random.randint(1, 5), random.choice(("dispatched", "rejected")))
            await asyncio.sleep(random.random() * 0.01)

    streams: list[list[dict[str, Any]]] = []
    tasks: list[asyncio.Task[None]] = []

    async def join() -> None:
        sent: list[dict[str, Any]] = []
        streams.append(sent)

        async def send(text: str) -> None:
            sent.append(json.loads(text))

        client = hub.register(LiveFilter())
        tasks.append(asyncio.create_task(stream_to_client(hub, client, send, ResumeRequest(None, None))))

    # Only one of the two SQLite writers reads before it writes: two Database objects on one SQLite
    # file (never the case in production) would otherwise trip over SQLITE_BUSY_SNAPSHOT.
    writers = [asyncio.create_task(write(worker.db, True)), asyncio.create_task(write(other_worker_db, False))]
    for _ in range(12):
        await asyncio.sleep(random.random() * 0.05)
        await join()
    stop.set()
    await asyncio.gather(*writers)
    async with worker.db.session() as session:
        head = (await events_after(session, 0, 100_000))[-1].seq

    async def all_caught_up() -> bool:
        for task in tasks:
            if task.done():
                task.result()  # a client's stream that died says why
        # Every client, the last to join included, has had its snapshot and caught up to the head.
        return all(s and s[-1].get("seq") == head for s in streams)

    await wait_until(all_caught_up, within=10)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    final = await open_incidents(worker.db)
    for stream in streams:
        snapshot, events = stream[0], stream[1:]
        assert snapshot["type"] == "snapshot"
        events = [message for message in events if message["type"] == "event"]
        assert [e["seq"] for e in events] == list(range(snapshot["seq"] + 1, head + 1))
        # Applying the events to the snapshot gives today's state (zulip's test).
        state = {incident["id"]: incident for incident in snapshot["incidents"]}
        for event in events:
            incident = event["incident"]
            if incident["status"] in ("new", "dispatched"):
                state[incident["id"]] = incident
            else:
                state.pop(incident["id"], None)
        assert state == final


async def test_clients_joining_together_share_one_snapshot_read(worker: AppState) -> None:
    hub = hub_of(worker)
    await write_incidents(worker.db, 3)
    snapshots = await asyncio.gather(*(hub.snapshots.get(covering=3, committed=3) for _ in range(20)))
    assert {snapshot.seq for snapshot in snapshots} == {3}
    assert hub.snapshots.reads == 1
    assert len(snapshots[0].incidents) == 3 and snapshots[0].stats["open"] == 3
    # A client that joined after a newer commit needs a newer read.
    await write_incidents(worker.db, 1)
    assert (await hub.snapshots.get(covering=4, committed=4)).seq == 4
    assert hub.snapshots.reads == 2


async def test_broker_messages_of_another_ledger_history_are_ignored(worker: AppState) -> None:
    hub = hub_of(worker)
    client = hub.register(LiveFilter())
    theirs = encode_event(1, {"seq": 1, "history": "another"}, None)
    ours = encode_event(1, {"seq": 1}, None)
    await hub.broker.publish(b"another-epoch\n" + theirs.encode())
    await hub.broker.publish(broker_prefix(hub.epoch) + ours.encode())
    # The broker keeps order: had the first message been taken for this history's seq 1, it would come first.
    async with asyncio.timeout(5):
        while not isinstance(item := await client.queue.get(), LiveMessage):
            pass  # a ping
    assert item.text == ours


async def test_one_broker_message_carries_a_commit_s_events_a_line_each(worker: AppState) -> None:
    hub = hub_of(worker)
    client = hub.register(LiveFilter())
    events = [encode_event(seq, {"seq": seq}, None).encode() for seq in (1, 2, 3)]
    [frame] = frames([(broker_prefix(hub.epoch), event) for event in events])
    await hub.broker.publish(frame)
    assert await queued_seqs(client, 3) == [1, 2, 3]
    # A worker of the previous release read one event a message; the header is no event to it.
    assert seq_of_event_bytes(frame[len(broker_prefix(hub.epoch)) :]) is None


def test_frames_keep_order_and_split_by_history_and_size() -> None:
    old, new = broker_prefix("old"), broker_prefix("new")
    big = b"x" * (FRAME_MAX_BYTES // 2)
    events = [(old, b"1"), (old, b"2"), (new, b"3"), (new, big), (new, big), (new, b"6")]
    header = FRAME_HEADER
    assert frames(events) == [old + header + b"1\n2", new + header + b"3\n" + big, new + header + big + b"\n6"]
    assert frames([]) == []


def test_recent_messages_keep_one_contiguous_bounded_run() -> None:
    recent = RecentMessages(max_messages=5, max_bytes=10_000)
    for seq in range(1, 11):
        recent.append(_message(seq))
    assert len(recent) == 5
    assert [m.seq for m in recent.between(5, 10) or []] == [6, 7, 8, 9, 10]
    assert [m.seq for m in recent.between(7, 9) or []] == [8, 9]
    assert recent.between(4, 10) is None  # seq 5 is gone: the caller reads the ledger
    assert recent.between(6, 11) is None  # not delivered yet
    assert recent.between(9, 9) == []
    recent.append(_message(12))  # a hole (never happens): start again rather than serve it
    assert len(recent) == 1 and recent.between(11, 12) is not None
    small = RecentMessages(max_messages=100, max_bytes=3 * len(_message(10).text))
    for seq in range(1, 11):
        small.append(_message(seq))
    assert len(small) == 3


async def test_a_resuming_client_is_served_from_memory_or_from_the_ledger(worker: AppState) -> None:
    hub = hub_of(worker)
    await write_incidents(worker.db, 6)
    for forget in (False, True):
        if forget:
            hub.recent.clear()  # as after a restart: the ledger serves the replay
        sent: list[int] = []

        async def send(text: str, into: list[int] = sent) -> None:
            into.append(json.loads(text)["seq"])

        client = hub.register(LiveFilter())
        task = asyncio.create_task(stream_to_client(hub, client, send, ResumeRequest(2, hub.epoch)))
        await wait_until(lambda into=sent: _is(len(into) == 4), within=5)  # type: ignore[misc]
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        hub.unregister(client)
        assert sent == [3, 4, 5, 6]


async def test_a_hub_loop_that_fails_is_started_again(caplog: pytest.LogCaptureFixture) -> None:
    from service.live import hub as hub_module

    runs: list[int] = []

    async def flaky() -> None:
        runs.append(1)
        if len(runs) < 3:
            raise RuntimeError("boom")

    original = hub_module.RETRY_AFTER_ERROR_S
    hub_module.RETRY_AFTER_ERROR_S = 0.01
    try:
        await hub_module._keep_running("flaky", flaky)
    finally:
        hub_module.RETRY_AFTER_ERROR_S = original
    assert len(runs) == 3
    assert caplog.text.count("failed; restarting it") == 2
