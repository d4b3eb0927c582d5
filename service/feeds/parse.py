"""A department's payload to parsed records: its adapter on each item, personal data masked,
every rejected item with the fields at fault."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from service.feeds.adapters import AdapterRegistry
from service.feeds.normalized import NormalizedRecord
from service.feeds.personal import mask_field_errors, mask_personal_data
from service.formats.fields import RecordRejected

# Items parsed or matched between two chances for other tasks to run (about 10 ms of work): a long
# stretch of parsing on a worker's loop would hold up its ingest writer and every request it serves.
SLICE = 64


@dataclass(frozen=True)
class ItemResult:
    """One item's outcome, as the request's answer lists it."""

    position: int  # index in the request, or the file's line number
    source_record_id: str | None
    status: str = "rejected"  # created | updated | unchanged | rejected
    record_id: int | None = None
    entity_id: str | None = None
    incident_id: int | None = None
    errors: list[dict[str, str]] = field(default_factory=list)


class Accepted(NamedTuple):
    """An item its adapter accepted, and where it stood in the request or file."""

    position: int
    record: NormalizedRecord


def parse_items(
    adapters: AdapterRegistry, source: str, items: Sequence[tuple[int, Any]]
) -> tuple[list[ItemResult], list[Accepted]]:
    """Run the source's adapter on each (position, item): the rejected items' results, and the accepted."""
    adapter = adapters.get(source)
    rejected: list[ItemResult] = []
    accepted: list[Accepted] = []
    for position, item in items:
        if not isinstance(item, dict):
            rejected.append(
                ItemResult(position, None, errors=[{"field": "(record)", "reason": "must be a JSON object"}])
            )
            continue
        raw_id = item.get(adapter.ID_FIELD)
        try:
            record = mask_personal_data(adapter.parse(item), id_field=adapter.ID_FIELD)
        except RecordRejected as exc:
            shown_id = exc.source_record_id or (str(raw_id)[:128] if isinstance(raw_id, str | int) else None)
            errors = [{"field": e.field, "reason": e.reason} for e in mask_field_errors(exc.errors)]
            rejected.append(ItemResult(position, shown_id, errors=errors))
            continue
        accepted.append(Accepted(position, record))
    return rejected, accepted


async def parse_in_slices(
    adapters: AdapterRegistry, source: str, items: Sequence[tuple[int, Any]]
) -> tuple[list[ItemResult], list[Accepted]]:
    """parse_items for a request's worth, letting other tasks run between slices (see SLICE)."""
    rejected: list[ItemResult] = []
    accepted: list[Accepted] = []
    for start in range(0, len(items), SLICE):
        if start:
            await asyncio.sleep(0)
        slice_rejected, slice_accepted = parse_items(adapters, source, items[start : start + SLICE])
        rejected.extend(slice_rejected)
        accepted.extend(slice_accepted)
    return rejected, accepted
