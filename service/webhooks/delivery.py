"""Delivering the outbox: signed POSTs to each department's webhook, retried with backoff until they land.

The outbox rows were written in the same transaction as the change they report, so nothing is
sent for a change that rolled back and nothing committed is lost. This worker only ever reads
committed rows, and it is woken right after a commit that queued some (``on_commit``); it also
polls, which covers rows queued by other processes and retries falling due.

Claiming is a short transaction of its own: due rows are selected (on PostgreSQL with
``FOR UPDATE SKIP LOCKED``, so several workers never take the same row) and their
``next_attempt_at`` is pushed past the longest time this round can take — a lease. A worker that
dies mid-round leaves its rows to be taken again once the lease runs out. The price is that a
delivery can arrive twice; the receiver de-duplicates on ``delivery_id`` (at least once, never
lost). SQLite runs one process, so there a plain select is enough.
"""

from __future__ import annotations

import asyncio
import http
import json
import logging
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update

from service.db.database import Database, UnitOfWork
from service.kit.clock import utcnow
from service.metrics import Metrics
from service.settings import Settings
from service.webhooks.models import DeliveryAttempt, OutboxMessage, Webhook
from service.webhooks.outbox import enqueued_in
from service.webhooks.signing import DELIVERY_ID_HEADER, SIGNATURE_HEADER, backoff_delay, signature_header
from service.webhooks.targets import TargetPolicy, guarded_transport

log = logging.getLogger(__name__)

USER_AGENT = "community-brain-webhooks/1"
MAX_ERROR_CHARS = 300
MIN_WAIT_S = 0.01


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard and how fast the worker tries (from CB_WEBHOOK_* settings)."""

    timeout_s: float = 5.0
    poll_interval_s: float = 2.0
    max_attempts: int = 25
    backoff_base_s: float = 10.0
    backoff_cap_s: float = 3600.0
    batch_size: int = 20
    concurrency: int = 8
    targets: TargetPolicy = TargetPolicy()  # noqa: RUF009  # frozen, so one shared default is safe

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            timeout_s=settings.webhook_timeout_s,
            poll_interval_s=settings.webhook_poll_interval_s,
            max_attempts=max(1, settings.webhook_max_attempts),
            backoff_base_s=settings.webhook_backoff_base_s,
            backoff_cap_s=settings.webhook_backoff_cap_s,
            targets=TargetPolicy.from_setting(settings.webhook_allowed_hosts),
        )

    @property
    def lease(self) -> timedelta:
        """Longer than one round can take: every wave of sends times out, plus room for the database."""
        waves = math.ceil(self.batch_size / self.concurrency)
        return timedelta(seconds=self.timeout_s * (waves + 1) + 30)


@dataclass(frozen=True)
class Claimed:
    """One outbox row taken for this round, detached from any session."""

    id: int
    delivery_id: str
    source: str
    payload: dict[str, Any]
    attempts: int  # before this round's attempt


@dataclass(frozen=True)
class Target:
    url: str
    secret: str


@dataclass(frozen=True)
class AttemptOutcome:
    status_code: int | None
    error: str | None
    duration_ms: int
    retryable: bool = True  # False when trying again cannot help (no webhook to send to)

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class NextStep:
    status: str  # delivered | pending | failed
    next_attempt_at: datetime | None  # when pending


def next_step(
    outcome: AttemptOutcome, attempts: int, policy: DeliveryPolicy, now: datetime, rng: random.Random | None = None
) -> NextStep:
    """What follows an attempt: ``attempts`` counts it. Delivered, retried after a backoff, or given up."""
    if outcome.delivered:
        return NextStep("delivered", None)
    if attempts >= policy.max_attempts or not outcome.retryable:
        return NextStep("failed", None)
    delay = backoff_delay(attempts, policy.backoff_base_s, policy.backoff_cap_s, rng)
    return NextStep("pending", now + timedelta(seconds=delay))


def encode_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes that are signed and sent (UTF-8 JSON, keys sorted, no spaces)."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


class WebhookDispatcher:
    """The delivery worker of one process."""

    def __init__(self, db: Database, policy: DeliveryPolicy, metrics: Metrics, client: httpx.AsyncClient | None = None):
        self.db = db
        self.policy = policy
        self.metrics = metrics
        # No redirects and no proxy from the environment: every connection goes to an address the
        # target policy checked (service/webhooks/targets.py).
        self.client = client or httpx.AsyncClient(
            transport=guarded_transport(policy.targets),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
        )
        self._wake = asyncio.Event()
        self._sending = asyncio.Semaphore(policy.concurrency)

    async def on_commit(self, uow: UnitOfWork) -> None:
        """A Database.on_commit hook: deliver what this commit queued without waiting for the next poll."""
        if enqueued_in(uow):
            self._wake.set()

    async def run(self) -> None:
        """Deliver forever: when woken, when a retry falls due, at least every poll interval."""
        while True:
            self._wake.clear()  # before looking, so a commit made meanwhile wakes the next wait
            try:
                taken = await self.deliver_due()
                if taken >= self.policy.batch_size:
                    continue  # more may be waiting
                wait_s = await self._seconds_until_next_due()
            except Exception as exc:  # the database may be away; the rows wait for the next round
                log.warning("webhook delivery round failed: %s", type(exc).__name__)
                wait_s = self.policy.poll_interval_s
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=wait_s)
            except TimeoutError:
                pass

    async def deliver_due(self, now: datetime | None = None) -> int:
        """One round: claim due rows, send them concurrently, record each outcome. Returns how many were sent."""
        claimed, targets = await self.claim_due(now or utcnow())
        if not claimed:
            return 0
        outcomes = await asyncio.gather(*(self._send_limited(m, targets.get(m.source)) for m in claimed))
        await self._record(claimed, outcomes)
        return len(claimed)

    async def _seconds_until_next_due(self) -> float:
        """Until the soonest pending row falls due (a retry), but never longer than the poll interval."""
        async with self.db.session() as session:
            soonest = await session.scalar(
                select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.status == "pending")
            )
        if soonest is None:
            return self.policy.poll_interval_s
        until = (soonest - utcnow()).total_seconds()
        return min(self.policy.poll_interval_s, max(MIN_WAIT_S, until))

    async def close(self) -> None:
        await self.client.aclose()

    # -- claiming ------------------------------------------------------------------------------

    def _due(self, now: datetime) -> tuple[Any, ...]:
        return (OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)

    async def claim_due(self, now: datetime) -> tuple[list[Claimed], dict[str, Target]]:
        """Take up to a batch of due rows for this worker (leased), with their departments' webhooks."""
        async with self.db.session() as session:  # a read first: most polls find nothing to do
            if await session.scalar(select(OutboxMessage.id).where(*self._due(now)).limit(1)) is None:
                return [], {}
        async with self.db.transaction() as uow:
            stmt = (
                select(OutboxMessage)
                .where(*self._due(now))
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(self.policy.batch_size)
            )
            if not self.db.is_sqlite:
                stmt = stmt.with_for_update(skip_locked=True)
            rows = (await uow.session.scalars(stmt)).all()
            if not rows:
                return [], {}
            await uow.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([r.id for r in rows]))
                .values(next_attempt_at=now + self.policy.lease)
            )
            hooks = (
                await uow.session.scalars(
                    select(Webhook).where(Webhook.source.in_({r.source for r in rows}), Webhook.active)
                )
            ).all()
            claimed = [Claimed(r.id, r.delivery_id, r.source, dict(r.payload), r.attempts) for r in rows]
            targets = {h.source: Target(h.url, h.secret) for h in hooks}
        return claimed, targets

    # -- sending -------------------------------------------------------------------------------

    async def _send_limited(self, message: Claimed, target: Target | None) -> AttemptOutcome:
        if target is None:
            return AttemptOutcome(None, f"no webhook is configured for {message.source!r}", 0, retryable=False)
        async with self._sending:
            return await self.send(message, target)

    async def send(self, message: Claimed, target: Target) -> AttemptOutcome:
        """POST one delivery, signed; never raises for the receiver's failures."""
        body = encode_body(message.payload)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: signature_header(target.secret.encode(), int(time.time()), body),
            DELIVERY_ID_HEADER: message.delivery_id,
        }
        started = time.perf_counter()

        def elapsed_ms() -> int:
            return int((time.perf_counter() - started) * 1000)

        try:
            async with asyncio.timeout(self.policy.timeout_s):  # the whole exchange, not each read
                async with self.client.stream("POST", target.url, content=body, headers=headers) as response:
                    # Only the status is kept: the receiver's body (or its reason phrase) is never read
                    # into the log, so a webhook cannot be used to fetch a page and show it to an admin.
                    if 200 <= response.status_code < 300:
                        return AttemptOutcome(response.status_code, None, elapsed_ms())
                    return AttemptOutcome(response.status_code, status_reason(response.status_code), elapsed_ms())
        except TimeoutError:
            return AttemptOutcome(None, f"no answer within {self.policy.timeout_s:g} s", elapsed_ms())
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            # The message names the failure (refused, reset, TLS); the URL is not repeated in it.
            return AttemptOutcome(None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS], elapsed_ms())

    # -- recording -----------------------------------------------------------------------------

    async def _record(self, claimed: Sequence[Claimed], outcomes: Sequence[AttemptOutcome]) -> None:
        now = utcnow()
        steps = [next_step(o, m.attempts + 1, self.policy, now) for m, o in zip(claimed, outcomes, strict=True)]
        async with self.db.transaction() as uow:
            for message, outcome, step in zip(claimed, outcomes, steps, strict=True):
                uow.session.add(
                    DeliveryAttempt(
                        outbox_id=message.id,
                        at=now,
                        status_code=outcome.status_code,
                        error=outcome.error,
                        duration_ms=outcome.duration_ms,
                    )
                )
                await uow.session.execute(_apply(message, step, outcome, message.attempts + 1, now))
        for message, outcome, step in zip(claimed, outcomes, steps, strict=True):
            self._count(message, step, outcome)

    def _count(self, message: Claimed, step: NextStep, outcome: AttemptOutcome) -> None:
        outcome_label = {"delivered": "delivered", "pending": "retry", "failed": "failed"}[step.status]
        self.metrics.webhook_deliveries.labels(outcome_label).inc()
        if step.status == "delivered":
            log.debug("webhook %s to %s delivered", message.delivery_id, message.source)
        else:  # neither the secret nor the body is logged, only what went wrong
            log.warning(
                "webhook %s to %s: %s (%s)",
                message.delivery_id,
                message.source,
                outcome.error,
                "will retry" if step.status == "pending" else "given up",
            )


def _apply(message: Claimed, step: NextStep, outcome: AttemptOutcome, attempts: int, now: datetime) -> Any:
    stmt = update(OutboxMessage).where(OutboxMessage.id == message.id)
    if step.status == "delivered":
        # Whatever another worker concluded meanwhile (a lease that ran out), it did arrive.
        return stmt.values(status="delivered", attempts=attempts, delivered_at=now, last_error=None)
    # Never turn a delivery that another worker completed (or an admin requeued) back into a failure.
    stmt = stmt.where(OutboxMessage.status == "pending")
    if step.status == "failed":
        return stmt.values(status="failed", attempts=attempts, last_error=outcome.error)
    return stmt.values(attempts=attempts, last_error=outcome.error, next_attempt_at=step.next_attempt_at)


def status_reason(status_code: int) -> str:
    """``HTTP 503 Service Unavailable``: the status and its standard phrase, nothing the receiver wrote."""
    try:
        return f"HTTP {status_code} {http.HTTPStatus(status_code).phrase}"
    except ValueError:
        return f"HTTP {status_code}"
