"""One client's stream: catch up (snapshot, or replay from the ledger), then send live events.

The join without gap or overlap (docs/live-stream.md, "Guarantees"; zulip's rule): the client's queue was registered
with the hub before anything here runs, at hub position R. The snapshot (seq S ≥ R, read after
registration) or the replay start (`since`) says what the client has; the ledger supplies
anything between that and R; the queue holds every event after R. Each event is sent once:
nothing at or below the last sent seq leaves this function twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from service.ledger.service import events_after, ledger_position
from service.live.client import LiveClient
from service.live.protocol import LiveMessage, ResumeRequest, StartMode, choose_start, encode_removal, facets_of

if TYPE_CHECKING:
    from service.live.hub import Hub

SendText = Callable[[str], Awaitable[None]]
REPLAY_PAGE = 1000


async def stream_to_client(hub: Hub, client: LiveClient, send: SendText, request: ResumeRequest) -> None:
    """Runs until cancelled (the client left, was too slow, or the worker stops)."""
    sent = await catch_up(hub, client, send, request)
    client.last_pushed_at = asyncio.get_running_loop().time()  # the catch-up was not silence
    queue = client.queue
    while True:
        item = await queue.get()
        if type(item) is str:  # a ping
            await send(item)
            continue
        assert isinstance(item, LiveMessage)
        if item.seq <= sent:
            continue
        sent = item.seq
        await send(item.text)


async def catch_up(hub: Hub, client: LiveClient, send: SendText, request: ResumeRequest) -> int:
    """Send what the client lacks up to its registration point; return the last seq it now has."""
    async with hub.db.session() as session:
        position = await ledger_position(session)
    mode = choose_start(request, position.seq, position.epoch, hub.settings.ws_replay_limit)
    if mode is StartMode.SNAPSHOT:
        snapshot = await hub.snapshots.get(covering=client.registered_at, committed=hub.last_seq)
        await send(snapshot.text_for(client.filter))
        sent = snapshot.seq
    else:
        assert request.since is not None
        sent = request.since
    if sent < client.registered_at:
        recent = hub.recent.between(sent, client.registered_at)
        if recent is not None:  # usually: what the hub delivered lately, already encoded
            live_filter = client.filter
            for message in recent:
                picked = message if live_filter is None else live_filter.pick(message)
                if picked is not None:
                    await send(picked.text)
        else:
            await replay(hub, client, send, after=sent, until=client.registered_at)
        sent = client.registered_at
    return sent


async def replay(hub: Hub, client: LiveClient, send: SendText, *, after: int, until: int) -> None:
    """Send the ledger's events in (after, until] that match the client's filter, in order."""
    live_filter = client.filter
    while after < until:
        async with hub.db.session() as session:
            rows = await events_after(session, after, min(REPLAY_PAGE, until - after))
        if not rows:
            raise RuntimeError(f"the ledger has no events after seq {after}, though seq {until} was delivered")
        for row in rows:
            if live_filter is None:
                await send(LiveMessage.from_event(row).text)
                continue
            facets = facets_of(row.incident, row.type, row.data)  # encode only what this client gets
            if live_filter.matches(facets):
                await send(LiveMessage.from_event(row).text)
            elif live_filter.releases(facets):
                await send(encode_removal(row.seq, row.incident_id))
        after = rows[-1].seq
