"""Claiming the outbox: two workers never take the same delivery; a dead worker's lease runs out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from service.db.database import Database
from service.kit.clock import utcnow
from service.metrics import Metrics
from service.webhooks.delivery import DeliveryPolicy, WebhookDispatcher
from service.webhooks.models import OutboxMessage, Webhook

MESSAGES = 30


@pytest.fixture
async def databases(database_url: str) -> AsyncIterator[tuple[Database, Database]]:
    """Two workers' connections: two engines on PostgreSQL (as two processes); SQLite runs one process."""
    first = Database(database_url)
    second = first if first.is_sqlite else Database(database_url)
    yield first, second
    await first.dispose()
    if second is not first:
        await second.dispose()


async def test_two_workers_never_claim_the_same_delivery(databases: tuple[Database, Database]) -> None:
    first_db, second_db = databases
    now = utcnow()
    async with first_db.transaction() as uow:
        uow.session.add(
            Webhook(source="police", url="http://127.0.0.1:9/", secret="s" * 20, active=True, updated_at=now)
        )
        for seq in range(1, MESSAGES + 1):
            uow.session.add(
                OutboxMessage(
                    delivery_id=f"{seq}-police", source="police", event_seq=seq, payload={"seq": seq},
                    status="pending", attempts=0, next_attempt_at=now, created_at=now,
                )
            )  # fmt: skip
    policy = DeliveryPolicy(batch_size=20)
    workers = [WebhookDispatcher(db, policy, Metrics()) for db in (first_db, second_db, first_db)]
    try:
        claims = await asyncio.gather(*(w.claim_due(now) for w in workers))
        taken = [m.id for claimed, _ in claims for m in claimed]
        assert len(taken) == len(set(taken)) == MESSAGES  # each exactly once, shared out
        assert all(len(claimed) <= policy.batch_size for claimed, _ in claims)
        assert {t.url for _, targets in claims for t in targets.values()} == {"http://127.0.0.1:9/"}

        # Leased: nobody takes them again while the round may still be running…
        assert (await workers[1].claim_due(now + timedelta(seconds=1)))[0] == []
        # …but if that worker died, they are taken again once the lease has run out.
        again, _ = await workers[1].claim_due(now + policy.lease + timedelta(seconds=1))
        assert len(again) == policy.batch_size
    finally:
        for worker in workers:
            await worker.close()
