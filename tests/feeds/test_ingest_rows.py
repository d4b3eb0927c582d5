"""The bulk insert path writes every column of a record and of an incident."""

from __future__ import annotations

from service.feeds.store import NewRecord
from service.incidents.models import Incident, IncidentRow
from service.records.models import SourceRecord


def test_new_record_has_exactly_the_columns_of_source_records() -> None:
    assert set(NewRecord.__slots__) == set(SourceRecord.__table__.columns.keys())


def test_incident_row_has_exactly_the_columns_of_incidents() -> None:
    assert set(IncidentRow.__slots__) == set(Incident.__table__.columns.keys())
