"""Rows of the register (registry.csv) checked and turned into RegistryRow.

A credit code is kept as written even when its check character fails: the register flags an
invalid code (service/matching/uscc.py), it does not refuse the entity for it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from service.formats.fields import FieldError, FieldReader, as_number, show

COLUMNS: tuple[str, ...] = (
    "entity_id", "kind", "name", "legal_name", "uscc", "address",
    "community", "grid", "lat", "lng", "aliases", "phone",
)  # fmt: skip
REQUIRED_COLUMNS: tuple[str, ...] = ("entity_id", "kind", "name")
KINDS: tuple[str, ...] = ("shop", "hospital", "school", "other")
ENTITY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

# Column sizes of the entities table (service/registry/models.py): longer text fails on PostgreSQL.
MAX_LENGTHS: dict[str, int] = {
    "name": 200, "legal_name": 200, "uscc": 32, "address": 300,
    "community": 100, "grid": 64, "phone": 64,
}  # fmt: skip
ALIAS_SEPARATORS = re.compile(r"[|｜]")


@dataclass(frozen=True, slots=True)
class RegistryRow:
    """One entity of the register, as the file gives it (text stripped, empties as None)."""

    entity_id: str
    kind: str
    name: str
    legal_name: str | None = None
    uscc: str | None = None
    address: str | None = None
    community: str | None = None
    grid: str | None = None
    lat: float | None = None
    lng: float | None = None
    aliases: list[str] = field(default_factory=list)
    phone: str | None = None


class RegistryRowRejected(ValueError):
    """A register row that cannot be taken; ``errors`` name each column and the reason."""

    def __init__(self, entity_id: str | None, errors: list[FieldError]):
        self.entity_id = entity_id
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))


def parse_registry_row(row: Mapping[str, Any]) -> RegistryRow:
    """One register row as a RegistryRow; RegistryRowRejected names every bad column."""
    reader = FieldReader(row)
    texts = {
        column: reader.text(column, required=column in REQUIRED_COLUMNS, max_len=MAX_LENGTHS.get(column))
        for column in COLUMNS
        if column not in ("lat", "lng")
    }
    entity_id = texts["entity_id"]
    if entity_id is not None and not ENTITY_ID.fullmatch(entity_id):
        reader.fail("entity_id", f"must be 1–64 letters, digits, - or _: {show(entity_id)}")
    kind = texts["kind"].lower() if texts["kind"] else None
    if kind is not None and kind not in KINDS:
        reader.fail("kind", f"unknown kind {show(texts['kind'])}; expected one of: {', '.join(KINDS)}")
    elif kind is None and not any(error.field == "kind" and "got" in error.reason for error in reader.errors):
        # A missing kind says which kinds there are.
        reader.errors = [e for e in reader.errors if e.field != "kind"]
        reader.fail("kind", f"required, one of: {', '.join(KINDS)}")
    lng, lat = reader.read("lng", as_number), reader.read("lat", as_number)
    unreadable = any(error.field in ("lat", "lng") for error in reader.errors)
    place = None if unreadable else reader.coordinates("lng", "lat", lng, lat)

    if reader.errors:
        raise RegistryRowRejected(entity_id, reader.errors)
    assert entity_id is not None and kind is not None and texts["name"] is not None
    return RegistryRow(
        entity_id=entity_id,
        kind=kind,
        name=texts["name"],
        legal_name=texts["legal_name"],
        uscc=texts["uscc"],
        address=texts["address"],
        community=texts["community"],
        grid=texts["grid"],
        lat=place[1] if place else None,
        lng=place[0] if place else None,
        aliases=split_aliases(texts["aliases"], exclude=texts["name"]),
        phone=texts["phone"],
    )


def split_aliases(text: str | None, *, exclude: str | None = None) -> list[str]:
    """Aliases separated by | (or a full-width ｜), stripped, without empties, repeats or the name itself."""
    aliases: list[str] = []
    for part in ALIAS_SEPARATORS.split(text or ""):
        alias = part.strip()
        if alias and alias != exclude and alias not in aliases:
            aliases.append(alias)
    return aliases
