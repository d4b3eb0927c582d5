"""Keeping the register: create, change, search and import entities."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import Conflict, NotFound
from service.kit.clock import utcnow
from service.matching.address import address_key
from service.matching.names import normalize_name
from service.matching.uscc import is_valid_uscc, normalize_uscc, uscc_problem
from service.registry.csv_rows import RegistryRow
from service.registry.models import Entity

MUTABLE_FIELDS = (
    "kind",
    "name",
    "legal_name",
    "aliases",
    "uscc",
    "address",
    "community",
    "grid",
    "lat",
    "lng",
    "phone",
    "status",
)


def _derive(entity: Entity) -> None:
    """Recompute what the service derives from the register's own fields."""
    entity.uscc = normalize_uscc(entity.uscc) if entity.uscc else None
    entity.uscc_valid = bool(entity.uscc and is_valid_uscc(entity.uscc))
    entity.name_norm = normalize_name(entity.name)[:200]
    entity.address_norm = address_key(entity.address) if entity.address else None
    entity.aliases = _unique_aliases(entity.aliases or [], entity.name)


def _unique_aliases(aliases: Iterable[str], name: str) -> list[str]:
    seen: list[str] = []
    for alias in aliases:
        alias = alias.strip()
        if alias and alias != name and alias not in seen:
            seen.append(alias)
    return seen


async def get_entity(session: AsyncSession, entity_id: str) -> Entity:
    entity = await session.get(Entity, entity_id)
    if entity is None:
        raise NotFound(f"no entity {entity_id!r}")
    return entity


async def create_entity(session: AsyncSession, fields: dict[str, Any]) -> Entity:
    """Add a file to the register; the id is generated when none is given."""
    entity_id = fields.pop("id", None) or f"E-{secrets.token_hex(5).upper()}"
    if await session.get(Entity, entity_id) is not None:
        raise Conflict(f"entity {entity_id!r} exists already", [{"field": "id"}])
    now = utcnow()
    entity = Entity(id=entity_id, status="open", created_at=now, updated_at=now, **fields)
    _derive(entity)
    session.add(entity)
    await session.flush()
    return entity


async def update_entity(session: AsyncSession, entity_id: str, changes: dict[str, Any]) -> Entity:
    entity = await get_entity(session, entity_id)
    for name, value in changes.items():
        if name in MUTABLE_FIELDS:
            setattr(entity, name, value)
    _derive(entity)
    entity.updated_at = utcnow()
    await session.flush()
    return entity


async def learn_alias(session: AsyncSession, entity_id: str, alias: str) -> Entity:
    """Remember a name a department used for this entity, so the next record links by itself."""
    entity = await get_entity(session, entity_id)
    alias = alias.strip()
    if alias and alias != entity.name and alias not in (entity.aliases or []) and alias != entity.legal_name:
        entity.aliases = [*(entity.aliases or []), alias]
        entity.updated_at = utcnow()
        await session.flush()
    return entity


async def search_entities(
    session: AsyncSession, q: str | None, grid: str | None, kind: str | None, limit: int, offset: int
) -> tuple[Sequence[Entity], int]:
    """Search by name, alias, legal name, credit code and address."""
    stmt = select(Entity)
    if q:
        pattern = f"%{q.strip()}%"
        stmt = stmt.where(
            or_(
                Entity.name.ilike(pattern),
                Entity.legal_name.ilike(pattern),
                cast(Entity.aliases, String).ilike(pattern),
                Entity.uscc.ilike(pattern),
                Entity.address.ilike(pattern),
                Entity.id == q.strip(),
            )
        )
    if grid:
        stmt = stmt.where(Entity.grid == grid)
    if kind:
        stmt = stmt.where(Entity.kind == kind)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = (await session.scalars(stmt.order_by(Entity.id).limit(limit).offset(offset))).all()
    return rows, total


async def located_open_entities(session: AsyncSession) -> Sequence[Any]:
    """Every open entity with a place: (id, name, kind, lat, lng, grid) rows, for the wall's map."""
    rows = await session.execute(
        select(Entity.id, Entity.name, Entity.kind, Entity.lat, Entity.lng, Entity.grid).where(
            Entity.lat.is_not(None), Entity.lng.is_not(None), Entity.status == "open"
        )
    )
    return rows.all()


@dataclass
class RowOutcome:
    line: int
    entity_id: str | None
    status: str  # created | updated | unchanged | rejected
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def registry_fields(row: RegistryRow) -> dict[str, Any]:
    return {
        "kind": row.kind,
        "name": row.name,
        "legal_name": row.legal_name or None,
        "aliases": list(row.aliases),
        "uscc": row.uscc or None,
        "address": row.address or None,
        "community": row.community or None,
        "grid": row.grid or None,
        "lat": row.lat,
        "lng": row.lng,
        "phone": row.phone or None,
    }


def upsert_registry_row(session: AsyncSession, existing: Entity | None, line: int, row: RegistryRow) -> RowOutcome:
    """Import one register row, idempotent on entity_id; ``existing`` is the entity with that id, if any."""
    fields = registry_fields(row)
    warnings = []
    problem = uscc_problem(normalize_uscc(row.uscc)) if row.uscc else None
    if problem:
        warnings.append(f"uscc: {problem}; kept but never used to link records")
    now = utcnow()
    if existing is None:
        entity = Entity(id=row.entity_id, status="open", created_at=now, updated_at=now, **fields)
        _derive(entity)
        session.add(entity)
        return RowOutcome(line, row.entity_id, "created", warnings=warnings)
    probe = Entity(**fields)
    _derive(probe)
    if all(getattr(probe, name) == getattr(existing, name) for name in fields):
        return RowOutcome(line, row.entity_id, "unchanged", warnings=warnings)
    for name in fields:
        setattr(existing, name, getattr(probe, name))
    _derive(existing)
    existing.updated_at = now
    return RowOutcome(line, row.entity_id, "updated", warnings=warnings)
