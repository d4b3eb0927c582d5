"""The bulk insert path writes every column of a record."""

from __future__ import annotations

from service.feeds.ingest import NewRecord
from service.feeds.models import SourceRecord


def test_new_record_has_exactly_the_columns_of_source_records() -> None:
    assert set(NewRecord.__slots__) == set(SourceRecord.__table__.columns.keys())
