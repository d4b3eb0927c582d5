"""Migration 0003 removes receivers' bodies that earlier versions stored in the delivery log."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Connection, select

from service.db.database import Database, make_engine
from service.db.migrate import alembic_config, upgrade_async
from service.kit.clock import utcnow
from service.webhooks.models import DeliveryAttempt, OutboxMessage


async def test_stored_bodies_are_cut_to_the_status(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with db.transaction() as uow:
            message = OutboxMessage(
                delivery_id="d-1",
                source="police",
                event_seq=1,
                payload={},
                status="failed",
                attempts=1,
                next_attempt_at=utcnow(),
                last_error="HTTP 500: root:x:0:0 internal-secret",
                created_at=utcnow(),
            )
            uow.session.add(message)
            await uow.session.flush()
            for error in ("HTTP 502: <html>internal-secret</html>", "ConnectError: [Errno 111] refused", None):
                uow.session.add(DeliveryAttempt(outbox_id=message.id, at=utcnow(), error=error, duration_ms=1))
    finally:
        await db.dispose()

    config = alembic_config(database_url)

    def back_to_0002(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")

    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(back_to_0002)
    finally:
        await engine.dispose()
    await upgrade_async(database_url)

    db = Database(database_url)
    try:
        async with db.session() as session:
            assert await session.scalar(select(OutboxMessage.last_error)) == "HTTP 500 Internal Server Error"
            errors = (await session.scalars(select(DeliveryAttempt.error).order_by(DeliveryAttempt.id))).all()
    finally:
        await db.dispose()
    assert errors == ["HTTP 502 Bad Gateway", "ConnectError: [Errno 111] refused", None]
