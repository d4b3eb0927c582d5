"""Webhook configuration and the delivery log, as admins see them (never a secret, except once)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AnyUrl, BaseModel, Field, UrlConstraints

from service.vocabulary import Source

DeliveryStatus = Literal["pending", "delivered", "failed"]
# The column holds 500 characters; a longer URL is refused here rather than failing in the database.
WebhookUrl = Annotated[AnyUrl, UrlConstraints(max_length=500, allowed_schemes=["http", "https"], host_required=True)]


class WebhookIn(BaseModel):
    url: WebhookUrl = Field(description="where the department receives status changes (http or https)")
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=128,
        description="the signing secret; when absent one is generated and returned once",
    )


class WebhookOut(BaseModel):
    source: Source
    url: str
    active: bool
    updated_at: datetime
    pending: int = Field(description="deliveries waiting to be sent or retried")
    failed: int = Field(description="deliveries given up on; an admin may retry them")


class WebhookSaved(WebhookOut):
    secret: str | None = Field(
        description="the generated signing secret, shown this once; null when the caller chose it"
    )


class WebhookList(BaseModel):
    items: list[WebhookOut]


class AttemptOut(BaseModel):
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryOut(BaseModel):
    id: int
    delivery_id: str
    source: Source
    event: str
    event_seq: int
    incident_id: int | None
    status: DeliveryStatus
    attempts: int = Field(description="attempts since the delivery was (re)queued")
    next_attempt_at: datetime | None = Field(description="when it is tried again; null unless pending")
    last_error: str | None
    last_status_code: int | None
    created_at: datetime
    delivered_at: datetime | None
    history: list[AttemptOut] = Field(description="every attempt, oldest first")
    payload: dict[str, Any] = Field(description="the body that is signed and sent")


class DeliveryList(BaseModel):
    items: list[DeliveryOut]
    total: int
