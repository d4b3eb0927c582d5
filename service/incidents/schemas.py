from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from service.records.schemas import RecordOut
from service.vocabulary import Category, Severity, Source, Status

NOTE_MAX_CHARS = 4000  # a note, or the note of a status change


class IncidentOut(BaseModel):
    id: int
    category: Category
    category_name: str
    severity: Severity
    status: Status
    entity_id: str | None
    entity_name: str | None
    title: str
    address: str | None
    lat: float | None
    lng: float | None
    grid: str | None
    sources: list[Source]
    report_count: int
    first_reported_at: str
    last_reported_at: str
    assignee: str | None
    due_at: str | None
    overdue: bool
    version: int
    merged_into: int | None
    resolution_note: str | None
    created_at: str
    updated_at: str


class IncidentList(BaseModel):
    items: list[IncidentOut]
    total: int


class EventOut(BaseModel):
    seq: int
    type: str
    incident_id: int | None
    actor: str
    at: str
    data: dict[str, Any]


class NoteOut(BaseModel):
    id: int
    author: str
    text: str
    created_at: str


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    uploaded_by: str
    uploaded_at: str
    url: str


class IncidentDetail(IncidentOut):
    records: list[RecordOut]
    events: list[EventOut]
    notes: list[NoteOut]
    attachments: list[AttachmentOut]


class StatusIn(BaseModel):
    status: Status
    note: str | None = Field(default=None, max_length=NOTE_MAX_CHARS)
    expected_version: int = Field(ge=0, le=2**31 - 1)


class AssignIn(BaseModel):
    assignee: str = Field(min_length=1, max_length=64)
    expected_version: int | None = Field(default=None, ge=0, le=2**31 - 1)


class NoteIn(BaseModel):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NOTE_MAX_CHARS)]


class MergeIn(BaseModel):
    into: int = Field(ge=1, le=2**31 - 1)
