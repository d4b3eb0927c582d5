"""Webhook use cases for admins: set, list and remove a department's webhook; read and retry the delivery log."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import Conflict, NotFound, Unprocessable
from service.kit.clock import utcnow
from service.webhooks.models import DeliveryAttempt, OutboxMessage, Webhook
from service.webhooks.outbox import ENQUEUED_KEY
from service.webhooks.targets import TargetPolicy, check_url

log = logging.getLogger(__name__)

SECRET_BYTES = 32
WEBHOOK_REMOVED = "the department's webhook was removed before this was delivered"


@dataclass(frozen=True)
class WebhookView:
    webhook: Webhook
    pending: int
    failed: int


@dataclass(frozen=True)
class DeliveryView:
    message: OutboxMessage
    history: Sequence[DeliveryAttempt]


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(SECRET_BYTES)


async def set_webhook(
    session: AsyncSession,
    source: str,
    url: str,
    secret: str | None,
    known_sources: Collection[str],
    targets: TargetPolicy,
) -> tuple[WebhookView, str | None]:
    """Create or replace a source's webhook; returns the generated secret (None when the caller gave one)."""
    if source not in known_sources:
        raise NotFound(f"no source {source!r}; known: {', '.join(sorted(known_sources))}")
    refused = await check_url(url, targets)
    if refused is not None:
        raise Unprocessable(f"the webhook may not point there: {refused}", [{"field": "url", "reason": refused}])
    generated = None if secret else new_secret()
    webhook = await session.get(Webhook, source)
    if webhook is None:
        webhook = Webhook(source=source)
        session.add(webhook)
    webhook.url = url
    webhook.secret = secret or generated or ""
    webhook.active = True
    webhook.updated_at = utcnow()
    await session.flush()
    log.info("webhook for %s set (secret %s)", source, "generated" if generated else "given")
    return (await _views(session, [webhook]))[0], generated


async def list_webhooks(session: AsyncSession) -> list[WebhookView]:
    webhooks = (await session.scalars(select(Webhook).order_by(Webhook.source))).all()
    return await _views(session, webhooks)


async def delete_webhook(session: AsyncSession, source: str) -> int:
    """Remove a source's webhook; what it still had to deliver is marked failed. Returns how many."""
    webhook = await session.get(Webhook, source)
    if webhook is None:
        raise NotFound(f"no webhook for {source!r}")
    await session.delete(webhook)
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.source == source, OutboxMessage.status == "pending")
        .values(status="failed", last_error=WEBHOOK_REMOVED)
    )
    abandoned = int(getattr(result, "rowcount", 0) or 0)
    log.info("webhook for %s removed; %d pending deliveries abandoned", source, abandoned)
    return abandoned


async def list_deliveries(
    session: AsyncSession, source: str | None, status: str | None, limit: int, offset: int
) -> tuple[list[DeliveryView], int]:
    """The delivery log, newest first, each delivery with its attempts."""
    stmt = select(OutboxMessage)
    if source:
        stmt = stmt.where(OutboxMessage.source == source)
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    messages = (await session.scalars(stmt.order_by(OutboxMessage.id.desc()).limit(limit).offset(offset))).all()
    return await _with_history(session, messages), total


async def retry_delivery(session: AsyncSession, outbox_id: int) -> DeliveryView:
    """Queue a failed (or delivered) delivery again, with a fresh round of attempts, due now."""
    message = await session.get(OutboxMessage, outbox_id, with_for_update=True)
    if message is None:
        raise NotFound(f"no delivery {outbox_id}")
    if message.status == "pending":
        raise Conflict(f"delivery {outbox_id} is already queued; next attempt at {message.next_attempt_at.isoformat()}")
    webhook = await session.get(Webhook, message.source)
    if webhook is None or not webhook.active:
        raise Unprocessable(
            f"{message.source!r} has no webhook; set one first",
            [{"field": "source", "reason": "no webhook configured"}],
        )
    message.status = "pending"
    message.attempts = 0
    message.next_attempt_at = utcnow()
    await session.flush()
    # Wakes the delivery worker once this commits (see delivery.WebhookDispatcher.on_commit).
    session.info[ENQUEUED_KEY] = session.info.get(ENQUEUED_KEY, 0) + 1
    return (await _with_history(session, [message]))[0]


async def _views(session: AsyncSession, webhooks: Sequence[Webhook]) -> list[WebhookView]:
    if not webhooks:
        return []
    counts = await session.execute(
        select(OutboxMessage.source, OutboxMessage.status, func.count())
        .where(OutboxMessage.source.in_([w.source for w in webhooks]), OutboxMessage.status != "delivered")
        .group_by(OutboxMessage.source, OutboxMessage.status)
    )
    by_key = {(source, status): n for source, status, n in counts}
    return [
        WebhookView(w, pending=by_key.get((w.source, "pending"), 0), failed=by_key.get((w.source, "failed"), 0))
        for w in webhooks
    ]


async def _with_history(session: AsyncSession, messages: Sequence[OutboxMessage]) -> list[DeliveryView]:
    if not messages:
        return []
    attempts = (
        await session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.outbox_id.in_([m.id for m in messages]))
            .order_by(DeliveryAttempt.id)
        )
    ).all()
    by_message: dict[int, list[DeliveryAttempt]] = {m.id: [] for m in messages}
    for attempt in attempts:
        by_message[attempt.outbox_id].append(attempt)
    return [DeliveryView(m, by_message[m.id]) for m in messages]
