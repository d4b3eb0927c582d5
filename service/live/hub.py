"""The hub: one per worker. Takes events from this worker's commits, from the broker and from the
ledger, and hands each to every local client exactly once, in seq order.

The hub's only state that matters is `last_seq`, the newest event it has delivered. Everything
arrives through `offer()`:

- a seq at or below `last_seq` is a duplicate (our own commit echoed by the broker, a fill that
  raced a live message) and is dropped;
- the next seq is delivered, then any consecutive ones that were waiting;
- a later seq waits in `_pending` while the gap is filled from the ledger. Gaps are normal: a
  message Redis dropped, or another worker's later commit published before an earlier one.
  Commit order is seq order, so whatever seq we have heard of is already readable.

A safety-net task reads the ledger head every `live_poll_interval_s` and fills anything the
broker never told us about, so with the broker down clients still get every event, later.

Fan-out (clients × events of work) runs in the hub's tasks, in slices, never in the request that
committed. What was delivered last is kept in `recent` for clients that resume (recent.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from service.db.database import Database, UnitOfWork
from service.ledger.service import LedgerPosition, events_after, ledger_position, new_events
from service.live.broker import Broker, BrokerUnavailable
from service.live.client import EndReason, LiveClient
from service.live.filters import LiveFilter
from service.live.protocol import LiveMessage, broker_prefix, encode_ping, seq_of_event_bytes
from service.live.recent import RecentMessages
from service.live.snapshot import SnapshotCache
from service.metrics import Metrics
from service.settings import Settings

log = logging.getLogger(__name__)

GAP_GRACE_S = 0.02  # a message from another worker usually closes a gap within a millisecond or two
FILL_PAGE = 1000
MAX_PENDING = 50_000  # beyond this, later messages are dropped: the ledger has them
OUTBOX_SIZE = 20_000
PUBLISH_BATCH = 500
# Events go to the broker several to a message, one per line (encoded JSON holds no raw newline):
# one message per event cost every worker a pub/sub read each, for its own events too. The header
# line is no event, so a worker of an earlier release (one event a message) skips these messages
# during a rolling restart and reads their events from the ledger instead of misreading them.
FRAME_HEADER = b"events\n"
FRAME_MAX_BYTES = 256 * 1024
RETRY_AFTER_ERROR_S = 1.0
SLICE_WORK = 5_000  # client pushes (≈ 1 µs each) between two chances for other tasks to run
RECENT_MAX_BYTES = 32 * 1024 * 1024  # what resuming clients are served from memory (see recent.py)


class Hub:
    def __init__(self, *, db: Database, broker: Broker, position: LedgerPosition, settings: Settings, metrics: Metrics):
        self.db = db
        self.broker = broker
        self.settings = settings
        self.metrics = metrics
        self.epoch = position.epoch
        self._wire_prefix = broker_prefix(position.epoch)
        self.last_seq = position.seq  # newest event delivered to local clients
        self.head_seq = position.seq  # newest seq this worker knows is committed
        self.snapshots = SnapshotCache(db)
        self.recent = RecentMessages(settings.ws_replay_limit, RECENT_MAX_BYTES)
        self._clients: set[LiveClient] = set()
        self._clients_view: tuple[LiveClient, ...] = ()
        self._pending: dict[int, LiveMessage] = {}
        self._wanted = position.seq  # fill from the ledger up to here
        self._gap = asyncio.Event()
        self._committed: deque[LiveMessage] = deque()  # this worker's commits, waiting for fan-out
        self._committed_ready = asyncio.Event()
        self._work = 0  # fan-out done since the hub last let others run
        self._outbox: asyncio.Queue[tuple[bytes, bytes]] = asyncio.Queue(OUTBOX_SIZE)  # (prefix, event)
        self._tasks: list[asyncio.Task[None]] = []
        self._loop = asyncio.get_running_loop()
        self.publish_dropped = 0

    # ── life cycle ────────────────────────────────────────────────────────────────────────────

    async def start(self) -> None:
        subscribed = asyncio.Event()
        self._spawn("live-commits", self._deliver_commits)
        self._spawn("live-broker-in", lambda: self._receive_from_broker(subscribed))
        self._spawn("live-broker-out", self._publish_outbox)
        self._spawn("live-gap-fill", self._fill_gaps)
        self._spawn("live-ledger-watch", self._watch_ledger)
        self._spawn("live-pings", self._ping_idle_clients)
        await subscribed.wait()

    async def stop(self) -> None:
        for client in self._clients_view:
            client.end(EndReason.SHUTDOWN)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def _spawn(self, name: str, loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._tasks.append(asyncio.create_task(_keep_running(name, loop), name=name))

    # ── clients ───────────────────────────────────────────────────────────────────────────────

    def register(self, live_filter: LiveFilter) -> LiveClient:
        """Start queueing every event after `last_seq` for a new client (before its snapshot is read)."""
        client = LiveClient(live_filter, self.settings.ws_client_queue, self.last_seq, self._loop.time())
        self._clients.add(client)
        self._clients_view = tuple(self._clients)
        self.metrics.ws_clients.set(len(self._clients))
        return client

    def unregister(self, client: LiveClient) -> None:
        if client in self._clients:
            self._clients.discard(client)
            self._clients_view = tuple(self._clients)
            self.metrics.ws_clients.set(len(self._clients))

    @property
    def client_count(self) -> int:
        return len(self._clients)

    def _drop_slow(self, client: LiveClient) -> None:
        # Never wait for a slow client: forget it now; its connection is closed with 4008 elsewhere.
        self.unregister(client)
        self.metrics.ws_closed_slow.inc()
        client.end(EndReason.SLOW)

    # ── events in ─────────────────────────────────────────────────────────────────────────────

    async def on_commit(self, uow: UnitOfWork) -> None:
        """Database.on_commit hook: serialise each new event once, deliver locally, publish to the broker."""
        events = new_events(uow)
        if not events:
            return
        try:
            messages = [LiveMessage.from_event(event) for event in events]
            # Fan-out costs clients × events: it runs in the hub's own task, not in this request.
            self._committed.extend(messages)
            self._committed_ready.set()
            for message in messages:
                try:
                    self._outbox.put_nowait((self._wire_prefix, message.wire))
                except asyncio.QueueFull:
                    self.publish_dropped += 1  # other workers catch up from the ledger
        except Exception:
            # The commit stands; the ledger watch delivers what this failed to.
            log.exception("live: handing committed events to the hub failed")

    def offer(self, message: LiveMessage) -> None:
        """Deliver in seq order: drop duplicates, hold what comes early and fill the gap before it."""
        seq = message.seq
        if seq <= self.last_seq:
            return
        if seq != self.last_seq + 1:
            if len(self._pending) < MAX_PENDING:
                self._pending.setdefault(seq, message)
            self._want(seq - 1)
            return
        self._deliver(message)
        pending = self._pending
        while pending:
            following = pending.pop(self.last_seq + 1, None)
            if following is None:
                break
            self._deliver(following)

    async def _pause_if_busy(self) -> None:
        """Let requests and senders run between slices of fan-out work."""
        if self._work >= SLICE_WORK:
            self._work = 0
            await asyncio.sleep(0)

    def _deliver(self, message: LiveMessage) -> None:
        self._work += len(self._clients_view) + 1
        self.last_seq = message.seq
        self.recent.append(message)
        if message.seq > self.head_seq:
            self.head_seq = message.seq
        now = self._loop.time()
        slow: list[LiveClient] = []
        for client in self._clients_view:
            live_filter = client.filter
            out = message
            if live_filter is not None:
                picked = live_filter.pick(message)
                if picked is None:
                    continue
                out = picked
            try:
                client.queue.put_nowait(out)
            except asyncio.QueueFull:
                slow.append(client)
                continue
            client.last_pushed_at = now
        for client in slow:
            self._drop_slow(client)

    def _want(self, seq: int) -> None:
        if seq > self._wanted:
            self._wanted = seq
        if seq > self.head_seq:
            self.head_seq = seq
        self._gap.set()

    # ── background tasks ──────────────────────────────────────────────────────────────────────

    async def _deliver_commits(self) -> None:
        while True:
            await self._committed_ready.wait()
            self._committed_ready.clear()
            while self._committed:
                self.offer(self._committed.popleft())
                await self._pause_if_busy()

    async def _receive_from_broker(self, subscribed: asyncio.Event) -> None:
        async with self.broker.subscribe() as subscription:
            subscribed.set()
            async for data in subscription:
                prefix = self._wire_prefix
                if not data.startswith(prefix):
                    continue  # another ledger's history (a restore, another deployment on this Redis)
                for event in data[len(prefix) :].split(b"\n"):
                    seq = seq_of_event_bytes(event)
                    if seq is None or seq <= self.last_seq:
                        continue  # our own commit echoed back, or already filled
                    self.offer(LiveMessage(seq, event.decode()))
                    await self._pause_if_busy()

    async def _publish_outbox(self) -> None:
        outage = False
        while True:
            batch = [await self._outbox.get()]
            while len(batch) < PUBLISH_BATCH and not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            try:
                await self.broker.publish_many(frames(batch))
            except BrokerUnavailable as exc:
                # Dropped on purpose: the events are in the ledger and other workers poll it.
                self.publish_dropped += len(batch)
                if not outage:
                    log.warning("live: publishing to the broker failed (%s); other workers read the ledger", exc)
                    outage = True
                continue
            if outage:
                log.warning("live: publishing to the broker works again")
                outage = False

    async def _fill_gaps(self) -> None:
        while True:
            await self._gap.wait()
            await asyncio.sleep(GAP_GRACE_S)
            self._gap.clear()
            target = self._wanted
            if target <= self.last_seq:
                continue
            try:
                await self._fill_from_ledger(target)
            except Exception:
                log.exception("live: filling a gap from the ledger failed; retrying")
                await asyncio.sleep(RETRY_AFTER_ERROR_S)
                self._gap.set()

    async def _fill_from_ledger(self, target: int) -> None:
        while self.last_seq < target:
            async with self.db.session() as session:
                rows = await events_after(session, self.last_seq, FILL_PAGE)
            if not rows:
                return
            filled = 0
            for row in rows:
                if row.seq > self.last_seq:
                    filled += 1
                    self.offer(LiveMessage.from_event(row))
                    await self._pause_if_busy()
            if filled:
                self.metrics.live_gap_fills.inc(filled)

    async def _watch_ledger(self) -> None:
        interval = self.settings.live_poll_interval_s
        while True:
            await asyncio.sleep(interval)
            delivered = self.last_seq  # committed before the read below starts
            try:
                async with self.db.session() as session:
                    position = await ledger_position(session)
            except Exception as exc:
                log.warning("live: reading the ledger head failed (%s)", type(exc).__name__)
                continue
            self.metrics.ledger_head.set(position.seq)
            if position.epoch != self.epoch or position.seq < delivered:
                self._ledger_replaced(position)
            elif position.seq > self.last_seq:
                self._want(position.seq)

    def _ledger_replaced(self, position: LedgerPosition) -> None:
        log.warning(
            "live: the ledger was replaced (epoch %s → %s); every client starts over", self.epoch, position.epoch
        )
        self.epoch = position.epoch
        self._wire_prefix = broker_prefix(position.epoch)
        self.last_seq = self.head_seq = self._wanted = position.seq
        self._pending.clear()
        self.snapshots.clear()
        self.recent.clear()
        for client in self._clients_view:
            self.unregister(client)
            client.end(EndReason.LEDGER_REPLACED)

    async def _ping_idle_clients(self) -> None:
        ping_after = self.settings.ws_ping_after_s
        tick = min(1.0, ping_after / 4)
        while True:
            await asyncio.sleep(tick)
            now = self._loop.time()
            # Everything up to last_seq is already in each queue, so the ping may carry it as a resume point.
            ping = encode_ping(self.last_seq)
            slow: list[LiveClient] = []
            for client in self._clients_view:
                if now - client.last_pushed_at < ping_after:
                    continue
                try:
                    client.queue.put_nowait(ping)
                except asyncio.QueueFull:
                    slow.append(client)
                    continue
                client.last_pushed_at = now
            for client in slow:
                self._drop_slow(client)


async def _keep_running(name: str, loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """A hub loop that fails is logged and started again: live delivery must not die with it."""
    while True:
        try:
            await loop()
            return
        except Exception:
            log.exception("live: hub task %s failed; restarting it", name)
            await asyncio.sleep(RETRY_AFTER_ERROR_S)


def frames(events: list[tuple[bytes, bytes]]) -> list[bytes]:
    """Broker messages for (prefix, event) pairs in order: each the prefix, the header, then its events
    a line each."""
    out: list[bytes] = []
    prefix = b""
    lines: list[bytes] = []
    size = 0
    for event_prefix, event in events:
        if lines and (event_prefix != prefix or size + len(event) > FRAME_MAX_BYTES):
            out.append(prefix + FRAME_HEADER + b"\n".join(lines))
            lines, size = [], 0
        prefix = event_prefix
        lines.append(event)
        size += len(event) + 1
    if lines:
        out.append(prefix + FRAME_HEADER + b"\n".join(lines))
    return out
