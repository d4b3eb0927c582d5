"""Starting and stopping what an app holds: database, signing key, matcher, broker, hub, background tasks."""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from service.auth.secrets import make_hasher
from service.auth.tickets import make_ticket_book
from service.db.database import Database, UnitOfWork
from service.demo.replay import start_demo
from service.feeds.bootstrap import start_feeds
from service.incidents.bootstrap import start_incidents
from service.ledger.models import AppMeta
from service.ledger.service import lock_held_s
from service.live.bootstrap import start_live
from service.metrics import Metrics
from service.ratelimit import RateLimits
from service.settings import Settings
from service.state import AppState
from service.webhooks.bootstrap import start_webhooks
from service.webhooks.outbox import queue_status_changes

log = logging.getLogger(__name__)


async def load_signing_key(db: Database, settings: Settings) -> str:
    """CB_SECRET_KEY, or a random key kept in the database so that every worker signs alike."""
    if settings.secret_key:
        return settings.secret_key
    async with db.session() as session:
        value = await session.scalar(select(AppMeta.value).where(AppMeta.key == "token_secret"))
    if value:
        return value
    try:
        async with db.transaction() as uow:
            uow.session.add(AppMeta(key="token_secret", value=secrets.token_urlsafe(48)))
    except IntegrityError:
        pass  # another worker stored one first
    async with db.session() as session:
        return (await session.scalars(select(AppMeta.value).where(AppMeta.key == "token_secret"))).one()


def open_database(settings: Settings) -> Database:
    """The app's database: every transaction queues its status changes for the departments' webhooks."""
    db = Database(settings.effective_database_url)
    db.before_commit.append(queue_status_changes)
    return db


async def start_services(settings: Settings, metrics: Metrics) -> AppState:
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = open_database(settings)
    state = AppState(
        settings=settings,
        db=db,
        signing_key=await load_signing_key(db, settings),
        rate_limits=RateLimits(settings),
        hasher=make_hasher(settings.argon2_time_cost, settings.argon2_memory_kib),
        tickets=make_ticket_book(settings.redis_url),
    )
    state.stoppers.append(state.tickets.close)
    state.metrics = metrics
    db.on_commit.insert(0, functools.partial(_observe_ledger_lock, metrics))  # before the hub's publishing
    for starter in _starters():
        await starter(state)
    return state


async def _observe_ledger_lock(metrics: Metrics, uow: UnitOfWork) -> None:
    held = lock_held_s(uow)
    if held is not None:
        metrics.ledger_lock_held.inc(held)


async def stop_services(state: AppState) -> None:
    for task in state.tasks:
        task.cancel()
    await asyncio.gather(*state.tasks, return_exceptions=True)
    for stopper in reversed(state.stoppers):
        try:
            await stopper()
        except Exception:
            log.exception("error while stopping")
    await state.db.dispose()


def _starters() -> list[Any]:
    """Each domain's start hook, in dependency order."""
    return [start_feeds, start_incidents, start_live, start_webhooks, start_demo]
