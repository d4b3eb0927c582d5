"""Rows of the register (registry.csv, feeds/README.md §1) checked and turned into RegistryRow.

A credit code is kept as written even when its check character fails: the register flags an
invalid code (service/matching/uscc.py), it does not refuse the entity for it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from service.feeds.files import cell_text
from service.feeds.normalized import FieldError

COLUMNS: tuple[str, ...] = (
    "entity_id", "kind", "name", "legal_name", "uscc", "address",
    "community", "grid", "lat", "lng", "aliases", "phone",
)  # fmt: skip
REQUIRED_COLUMNS: tuple[str, ...] = ("entity_id", "kind", "name")
KINDS: tuple[str, ...] = ("shop", "hospital", "school", "other")
ENTITY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

# Inside China's bounding box, as for the feeds (service/feeds/adapters/base.py).
CHINA_LAT = (3.8, 53.6)
CHINA_LNG = (73.5, 135.1)
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
    errors: list[FieldError] = []
    texts: dict[str, str | None] = {}
    for column in COLUMNS:
        if column in ("lat", "lng"):
            continue
        try:
            texts[column] = cell_text(row.get(column))
        except TypeError as exc:
            errors.append(FieldError(column, str(exc)))
            texts[column] = None

    unreadable = {error.field for error in errors}
    entity_id = texts["entity_id"]
    if entity_id is None and "entity_id" not in unreadable:
        errors.append(FieldError("entity_id", "required, but missing or empty"))
    elif entity_id is not None and not ENTITY_ID.fullmatch(entity_id):
        errors.append(FieldError("entity_id", f"must be 1–64 letters, digits, - or _: {_show(entity_id)}"))

    kind = texts["kind"].lower() if texts["kind"] else None
    if kind is None and "kind" not in unreadable:
        errors.append(FieldError("kind", f"required, one of: {', '.join(KINDS)}"))
    elif kind is not None and kind not in KINDS:
        errors.append(FieldError("kind", f"unknown kind {_show(texts['kind'])}; expected one of: {', '.join(KINDS)}"))

    if texts["name"] is None and "name" not in unreadable:
        errors.append(FieldError("name", "required, but missing or empty"))
    for column, limit in MAX_LENGTHS.items():
        _check_length(errors, column, texts[column], limit)

    lat = _coordinate(errors, row, "lat", CHINA_LAT)
    lng = _coordinate(errors, row, "lng", CHINA_LNG)
    if (lat is None) != (lng is None) and not any(e.field in ("lat", "lng") for e in errors):
        missing = "lat" if lat is None else "lng"
        errors.append(FieldError(missing, "missing while the other coordinate is given: give both or neither"))

    if errors:
        raise RegistryRowRejected(entity_id, errors)
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
        lat=lat,
        lng=lng,
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


def _coordinate(
    errors: list[FieldError], row: Mapping[str, Any], column: str, bounds: tuple[float, float]
) -> float | None:
    value = row.get(column)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        errors.append(FieldError(column, "expected a number"))
        return None
    try:
        number = float(unicodedata.normalize("NFKC", value).strip()) if isinstance(value, str) else float(value)
    except ValueError:
        errors.append(FieldError(column, f"not a number: {_show(value)}"))
        return None
    if not math.isfinite(number) or not bounds[0] <= number <= bounds[1]:
        other_bounds, other = (CHINA_LNG, "lng") if column == "lat" else (CHINA_LAT, "lat")
        swapped = math.isfinite(number) and other_bounds[0] <= number <= other_bounds[1]
        hint = f" (are {column} and {other} swapped?)" if swapped else ""
        errors.append(FieldError(column, f"{number:g} is outside China ({bounds[0]}–{bounds[1]}){hint}"))
        return None
    return number


def _check_length(errors: list[FieldError], column: str, text: str | None, limit: int) -> None:
    if text is not None and len(text) > limit:
        errors.append(FieldError(column, f"longer than {limit} characters ({len(text)})"))


def _show(value: object, limit: int = 60) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
