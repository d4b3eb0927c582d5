"""Linking a waiting record to its entity by hand: learn the name, then re-run merging."""

from __future__ import annotations

from service.db.database import UnitOfWork
from service.errors import NotFound
from service.incidents.placement import PlacementPass, PlacementRules, Report
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
        placement = PlacementPass(uow, rules)
        current = [record.incident_id] if record.incident_id is not None else []
        await placement.load([record], current)
        if current:
            reason = "record linked to the entity by an operator"
            await placement.relocate(Report(record, actor, entity), current[0], change="entity_linked", reason=reason)
        else:
            await placement.place(Report(record, actor, entity))
        await placement.write()
    await session.flush()
    return record, entity
