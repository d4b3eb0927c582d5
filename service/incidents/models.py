"""Incidents: the current state, a projection of the ledger's events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, JSONType, UTCDateTime, WordType
from service.vocabulary import Category, Severity, Status


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_id: Mapped[str | None] = mapped_column(ForeignKey("entities.id"))
    entity_name: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[Category] = mapped_column(WordType(Category, 32))
    severity: Mapped[Severity] = mapped_column(WordType(Severity, 16))
    status: Mapped[Status] = mapped_column(WordType(Status, 16), default=Status.NEW)
    title: Mapped[str] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(String(300))
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    grid: Mapped[str | None] = mapped_column(String(64))
    sources: Mapped[list[str]] = mapped_column(JSONType, default=list)
    report_count: Mapped[int] = mapped_column(Integer, default=0)
    first_reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    assignee: Mapped[str | None] = mapped_column(String(64))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_incidents_open_key", "status", "entity_id", "category"),
        Index("ix_incidents_grid", "grid"),
        Index("ix_incidents_assignee", "assignee"),
        Index("ix_incidents_due_at", "due_at"),
        Index("ix_incidents_last_reported_at", "last_reported_at"),
    )


@dataclass(slots=True)
class IncidentRow:
    """An incident's columns as plain fields: one placement opens in this transaction, or one it read
    to join. Placement opens and joins hundreds per batch; mapped objects and the unit of work's
    flush cost more than the placing itself. Placement writes these rows itself (PlacementPass.write)."""

    id: int
    entity_id: str | None
    entity_name: str | None
    category: Category
    severity: Severity
    status: Status
    title: str
    address: str | None
    lat: float | None
    lng: float | None
    grid: str | None
    sources: list[str]
    report_count: int
    first_reported_at: datetime
    last_reported_at: datetime
    due_at: datetime | None
    overdue: bool
    version: int
    created_at: datetime
    updated_at: datetime
    assignee: str | None = None
    merged_into: int | None = None
    resolution_note: str | None = None
    resolved_at: datetime | None = None

    def row(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}


# An incident as placement and the ledger see it: a mapped object, or a row placement writes itself.
IncidentState = Incident | IncidentRow


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_path: Mapped[str] = mapped_column(String(500))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_attachments_incident_id", "incident_id"),)


class IncidentNote(Base):
    __tablename__ = "incident_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_incident_notes_incident_id", "incident_id"),)
