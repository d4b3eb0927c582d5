"""A department record as the API shows it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from service.vocabulary import Category, Severity, Source


class CandidateOut(BaseModel):
    entity_id: str
    name: str | None = None
    address: str | None = None
    score: float


class RecordOut(BaseModel):
    """A department record as operators see it: normalized fields and links, no personal data."""

    id: int
    source: Source
    source_record_id: str
    revision: int
    category: Category
    is_problem: bool
    occurred_at: datetime
    received_at: datetime
    title: str
    description: str
    name: str | None
    address: str | None
    uscc: str | None
    uscc_valid: bool | None
    lat: float | None
    lng: float | None
    severity: Severity
    status_text: str | None
    theme: str | None = Field(
        default=None,
        description="a resident's complaint (hotline): its theme — noise, fumes, street_vending, group_rental, "
        "parking, elevator, property, garbage, illegal_building, …; null for the departments' records",
    )
    entity_id: str | None
    match_method: str | None
    match_score: float | None
    incident_id: int | None
    candidates: list[CandidateOut]
