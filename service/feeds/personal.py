"""Personal data kept out of what is stored: every record is masked here, whatever its source,
before it is linked, stored, placed into an incident or written to the ledger.

Adapters may do more for a field they know to be personal (police ``bjrdh`` is masked whole,
and its exact digits scrubbed everywhere else in the record); this is the floor for all sources.
"""

from __future__ import annotations

import dataclasses

from service.feeds.normalized import NormalizedRecord
from service.formats.fields import FieldError
from service.kit.personal import mask_phone_numbers, mask_phone_numbers_in


def mask_personal_data(record: NormalizedRecord, *, id_field: str) -> NormalizedRecord:
    """The record with every phone number in its texts masked (its id and credit code left alone);
    the record itself when it holds none."""
    masked = {
        "payload": mask_phone_numbers_in(record.payload, keep=id_field.__eq__),
        "title": mask_phone_numbers(record.title),
        "description": mask_phone_numbers(record.description),
        "name": _mask_optional(record.name),
        "address": _mask_optional(record.address),
        "status_text": _mask_optional(record.status_text),
        "extra": mask_phone_numbers_in(record.extra),
    }
    changed = {name: value for name, value in masked.items() if value is not getattr(record, name)}
    return dataclasses.replace(record, **changed) if changed else record


def mask_field_errors(errors: list[FieldError]) -> list[FieldError]:
    """Reasons may quote the value they refuse: masked too, as they are answered and logged."""
    return [FieldError(error.field, mask_phone_numbers(error.reason)) for error in errors]


def _mask_optional(text: str | None) -> str | None:
    return mask_phone_numbers(text) if text is not None else None
