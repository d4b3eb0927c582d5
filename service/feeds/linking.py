"""Linking a waiting record to its entity by hand: learn the name, then re-run merging."""

from __future__ import annotations

from service.db.database import UnitOfWork
from service.errors import NotFound
from service.incidents.models import Incident
from service.incidents.placement import PlacementRules, Placer
from service.ledger.service import lock_ledger
from service.records.models import SourceRecord
from service.registry.models import Entity
from service.registry.service import get_entity, learn_alias


async def link_record_to_entity(
    uow: UnitOfWork, record_id: int, entity_id: str, actor: str, rules: PlacementRules
) -> tuple[SourceRecord, Entity]:
    """Link the record, remember its name as an alias of the entity, and move its problem where it belongs."""
    await lock_ledger(uow)
    session = uow.session
    record = await session.get(SourceRecord, record_id)
    if record is None:
        raise NotFound(f"no record {record_id}")
    entity = await get_entity(session, entity_id)
    if record.name:
        entity = await learn_alias(session, entity.id, record.name)
    record.entity_id, record.match_method, record.match_score = entity.id, "operator", 1.0
    if record.is_problem:
        current = await session.get(Incident, record.incident_id) if record.incident_id else None
        await Placer(uow, rules, actor).relocate(
            record, entity, current, change="entity_linked", reason="record linked to the entity by an operator"
        )
    await session.flush()
    return record, entity
