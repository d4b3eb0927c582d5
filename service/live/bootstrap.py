"""Starting the live stream: the broker chosen by CB_REDIS_URL, this worker's hub, and the commit hook."""

from __future__ import annotations

from service.ledger.service import ledger_position
from service.live.broker import make_broker
from service.live.hub import Hub
from service.state import AppState

# One channel for every worker; each message names its ledger history (its epoch), see protocol.broker_prefix.
LIVE_CHANNEL = "community-brain:live"


async def start_live(state: AppState) -> None:
    """Create the hub after the database is up; a broker that is down does not stop the worker."""
    async with state.db.session() as session:
        position = await ledger_position(session)
    broker = make_broker(state.settings.redis_url, LIVE_CHANNEL)
    await broker.start()
    state.stoppers.append(broker.stop)
    hub = Hub(db=state.db, broker=broker, position=position, settings=state.settings, metrics=state.metrics)
    await hub.start()
    state.stoppers.append(hub.stop)  # stoppers run in reverse: the hub stops before its broker
    state.db.on_commit.append(hub.on_commit)
    state.hub = hub
