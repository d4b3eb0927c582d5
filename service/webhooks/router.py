"""HTTP for webhooks (admins only): one webhook per department, and the delivery log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from service.deps import AdminDep, PageLimit, PageOffset, SessionDep, StateDep
from service.webhooks import service
from service.webhooks.schemas import (
    AttemptOut,
    DeliveryList,
    DeliveryOut,
    DeliveryStatus,
    WebhookIn,
    WebhookList,
    WebhookOut,
    WebhookSaved,
)
from service.webhooks.targets import TargetPolicy

router = APIRouter(tags=["webhooks"])

SourcePath = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,31}$", description="police, market, city, …")]


@router.get("/webhooks", response_model=WebhookList)
async def list_webhooks(session: SessionDep, _admin: AdminDep) -> WebhookList:
    """Every department's webhook with its backlog; secrets are never shown."""
    return WebhookList(items=[_webhook_out(v) for v in await service.list_webhooks(session)])


@router.get("/webhooks/deliveries", response_model=DeliveryList)
async def list_deliveries(
    session: SessionDep,
    _admin: AdminDep,
    source: Annotated[str | None, Query(max_length=32)] = None,
    status: DeliveryStatus | None = None,
    limit: PageLimit = 50,
    offset: PageOffset = 0,
) -> DeliveryList:
    """The delivery log, newest first: each delivery with its attempts, last error and status code."""
    views, total = await service.list_deliveries(session, source, status, limit, offset)
    return DeliveryList(items=[_delivery_out(v) for v in views], total=total)


@router.post("/webhooks/deliveries/{outbox_id}/retry", response_model=DeliveryOut)
async def retry_delivery(
    outbox_id: Annotated[int, Path(ge=1, le=2**31 - 1)], state: StateDep, _admin: AdminDep
) -> DeliveryOut:
    """Send a failed delivery again, with a fresh round of attempts."""
    async with state.db.transaction() as uow:
        view = await service.retry_delivery(uow.session, outbox_id)
    return _delivery_out(view)


@router.put("/webhooks/{source}", response_model=WebhookSaved)
async def set_webhook(source: SourcePath, body: WebhookIn, state: StateDep, _admin: AdminDep) -> WebhookSaved:
    """Set where a department receives status changes; a generated secret is returned this once."""
    async with state.db.transaction() as uow:
        view, generated = await service.set_webhook(
            uow.session,
            source,
            str(body.url),
            body.secret,
            state.adapters.known_sources(),
            TargetPolicy.from_setting(state.settings.webhook_allowed_hosts),
        )
    return WebhookSaved(**_webhook_out(view).model_dump(), secret=generated)


@router.delete("/webhooks/{source}", status_code=204, response_class=Response)
async def delete_webhook(source: SourcePath, state: StateDep, _admin: AdminDep) -> Response:
    """Stop sending to a department; its undelivered messages are marked failed."""
    async with state.db.transaction() as uow:
        await service.delete_webhook(uow.session, source)
    return Response(status_code=204)


def _webhook_out(view: service.WebhookView) -> WebhookOut:
    w = view.webhook
    return WebhookOut(
        source=w.source, url=w.url, active=w.active, updated_at=w.updated_at, pending=view.pending, failed=view.failed
    )


def _delivery_out(view: service.DeliveryView) -> DeliveryOut:
    m = view.message
    incident = m.payload.get("incident") or {}
    return DeliveryOut(
        id=m.id,
        delivery_id=m.delivery_id,
        source=m.source,
        event=str(m.payload.get("event", "")),
        event_seq=m.event_seq,
        incident_id=incident.get("id"),
        status=m.status,  # type: ignore[arg-type]  # the column holds one of DeliveryStatus
        attempts=m.attempts,
        next_attempt_at=m.next_attempt_at if m.status == "pending" else None,
        last_error=m.last_error,
        last_status_code=view.history[-1].status_code if view.history else None,
        created_at=m.created_at,
        delivered_at=m.delivered_at,
        history=[
            AttemptOut(at=a.at, status_code=a.status_code, error=a.error, duration_ms=a.duration_ms)
            for a in view.history
        ],
        payload=m.payload,
    )
