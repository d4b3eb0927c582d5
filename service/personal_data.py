"""Masking personal data already stored: what was written before masking covered it.

Every text of department records (and their earlier revisions), incidents, inspectors' notes and
ledger events goes through the same ``mask_phone_numbers`` that ingest applies; a record's
content hash follows its payload, so a resend of the same record is still recognised. The ledger
is rewritten from the first changed event and gets a new epoch (service/ledger/rewrite.py). One
transaction: all of it, or nothing. See docs/operations.md, "Personal data already written".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, select, update

from service.db.database import UnitOfWork
from service.feeds.adapters import AdapterRegistry, UnknownSourceError
from service.kit.canonical import canonical_json, sha256_hex
from service.kit.personal import mask_phone_numbers, mask_phone_numbers_in
from service.ledger.rewrite import Rewrite, rewrite_events
from service.tables import Base

CHUNK = 2000
_EVENT_KEEPS = {"source_record_id", "uscc", "content_hash"}  # ids in event data, never phone numbers


@dataclass(frozen=True)
class MaskedStore:
    rows_changed: dict[str, int]  # table → rows changed
    ledger: Rewrite


async def mask_stored_personal_data(uow: UnitOfWork, adapters: AdapterRegistry) -> MaskedStore:
    def id_field(source: str) -> str | None:
        try:
            return adapters.get(source).ID_FIELD
        except UnknownSourceError:
            return None  # a source no longer configured: its id field is not known, mask everything

    def record(row: Any) -> dict[str, Any]:
        keep = id_field(row.source)
        payload = mask_phone_numbers_in(row.payload, keep=lambda key: key == keep)
        return {
            "payload": payload,
            "content_hash": sha256_hex(canonical_json(payload)) if payload != row.payload else row.content_hash,
            "title": mask_phone_numbers(row.title),
            "description": mask_phone_numbers(row.description),
            **{name: _optional(getattr(row, name)) for name in ("name", "address", "status_text")},
        }

    def revision(row: Any) -> dict[str, Any]:
        keep = id_field(row.source)
        payload = mask_phone_numbers_in(row.payload, keep=lambda key: key == keep)
        return {
            "payload": payload,
            "content_hash": sha256_hex(canonical_json(payload)) if payload != row.payload else row.content_hash,
        }

    changed = {
        "source_records": await _mask_rows(uow, _table("source_records"), record),
        "source_record_revisions": await _mask_rows(
            uow, _table("source_record_revisions"), revision, source_of=_table("source_records")
        ),
        "incidents": await _mask_rows(
            uow,
            _table("incidents"),
            lambda row: {name: _optional(getattr(row, name)) for name in ("title", "address", "resolution_note")},
        ),
        "incident_notes": await _mask_rows(
            uow, _table("incident_notes"), lambda row: {"text": mask_phone_numbers(row.text)}
        ),
    }
    ledger = await rewrite_events(
        uow,
        lambda data, incident: (
            mask_phone_numbers_in(data, keep=_EVENT_KEEPS.__contains__),
            mask_phone_numbers_in(incident, keep=_EVENT_KEEPS.__contains__),
        ),
    )
    return MaskedStore(changed, ledger)


async def _mask_rows(
    uow: UnitOfWork, table: Table, masked: Callable[[Any], dict[str, Any]], source_of: Table | None = None
) -> int:
    """Rows of ``table`` whose ``masked`` values differ, updated; how many. ``source_of``: revisions
    read their record's source from it."""
    changed, after = 0, 0
    while True:
        query = select(table).where(table.c.id > after).order_by(table.c.id).limit(CHUNK)
        if source_of is not None:
            query = select(table, source_of.c.source).join(source_of, source_of.c.id == table.c.record_id)
            query = query.where(table.c.id > after).order_by(table.c.id).limit(CHUNK)
        rows = (await uow.session.execute(query)).all()
        if not rows:
            return changed
        for row in rows:
            values = masked(row)
            if any(getattr(row, name) != value for name, value in values.items()):
                changed += 1
                await uow.session.execute(update(table).where(table.c.id == row.id).values(**values))
        after = rows[-1].id


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _optional(text: str | None) -> str | None:
    return mask_phone_numbers(text) if text is not None else None
