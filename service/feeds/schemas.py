from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from service.records.schemas import RecordOut
from service.vocabulary import Category, Source, Status


class ItemResultOut(BaseModel):
    source_record_id: str | None
    status: str = Field(description="created | updated | unchanged | rejected")
    record_id: int | None
    entity_id: str | None
    incident_id: int | None
    errors: list[dict[str, str]] = Field(description="each names the field and the reason")
    line: int | None = Field(default=None, description="file imports: the line or row number in the file")
    index: int | None = Field(default=None, description="pushes: the item's index in the array")


class IngestSummary(BaseModel):
    read: int
    created: int
    updated: int
    unchanged: int
    rejected: int


class IngestReport(BaseModel):
    results: list[ItemResultOut]
    summary: IngestSummary
    notes: list[str] = Field(default_factory=list)


class RecordList(BaseModel):
    items: list[RecordOut]
    total: int


class LinkIn(BaseModel):
    entity_id: str = Field(min_length=1, max_length=64)


class IncidentStatusOut(BaseModel):
    id: int
    status: Status
    category: Category
    assignee: str | None
    due_at: datetime | None
    overdue: bool
    merged_into: int | None
    resolution_note: str | None
    updated_at: datetime


class RecordStatusOut(BaseModel):
    """What a department may see of its own record: where it stands in the command centre."""

    source: Source
    source_record_id: str
    record_id: int
    revision: int
    received_at: datetime
    entity_id: str | None
    incident: IncidentStatusOut | None
    department_status: str | None = Field(
        default=None,
        description="the incident's status in the department's own words (its feed definition's status.feedback)",
    )
    department_reply: str | None = Field(
        default=None,
        description="once the incident is closed or rejected, the reply to the department in its definition's words "
        "(status.reply; the 12345 hotline's 办结 reply, with the operator's resolution note)",
    )
