"""What the exported CSV files hold: their columns and one row per incident or record (no personal data)."""

from __future__ import annotations

from typing import Any

from service.incidents.models import Incident
from service.incidents.projection import incident_as_dict
from service.records.models import SourceRecord

INCIDENT_COLUMNS: tuple[str, ...] = (
    "id", "status", "category", "category_name", "severity", "title", "entity_id", "entity_name", "address",
    "grid", "lat", "lng", "sources", "report_count", "first_reported_at", "last_reported_at", "assignee",
    "due_at", "overdue", "merged_into", "resolution_note", "created_at", "updated_at",
)  # fmt: skip

# The normalized fields only: the verbatim payload may carry personal data (the police caller's phone).
RECORD_COLUMNS: tuple[str, ...] = (
    "id", "source", "source_record_id", "revision", "category", "is_problem", "occurred_at", "received_at",
    "title", "description", "name", "address", "uscc", "uscc_valid", "lat", "lng", "severity", "status_text",
    "theme", "entity_id", "match_method", "match_score", "incident_id",
)  # fmt: skip


def incident_row(incident: Incident) -> dict[str, Any]:
    row = incident_as_dict(incident)
    row["sources"] = "|".join(row["sources"])
    return row


def record_row(record: SourceRecord) -> dict[str, Any]:
    return {column: getattr(record, column) for column in RECORD_COLUMNS}
