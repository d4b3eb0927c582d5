"""Linking a waiting record to its entity by hand: learn the name, then re-run merging."""

from __future__ import annotations

from service.db.database import UnitOfWork
from service.db.locks import lock_names
from service.errors import NotFound
from service.incidents.placement import PlacementPass, PlacementRules, Report, placement_lock
from service.ledger.service import number_at_commit
from service.records.models import SourceRecord
from service.registry.models import Entity
from service.registry.service import get_entity, learn_alias


async def link_record_to_entity(
    uow: UnitOfWork, record_id: int, entity_id: str, actor: str, rules: PlacementRules
) -> tuple[SourceRecord, Entity]:
    """Link the record, remember its name as an alias of the entity, and move its problem where it belongs.

    Locks in the order ingest takes them (service/feeds/store.py): the record, then (for the alias)
    the entity, the placement key, the incidents; the ledger lock only at commit.
    """
    number_at_commit(uow)
    session = uow.session
    record = await session.get(SourceRecord, record_id, with_for_update=True)
    if record is None:
        raise NotFound(f"no record {record_id}")
    await session.get(Entity, entity_id, with_for_update=True)  # its aliases: another link may add one
    entity = await get_entity(session, entity_id)
    if record.name:
        entity = await learn_alias(session, entity.id, record.name)
    record.entity_id, record.match_method, record.match_score = entity.id, "operator", 1.0
    if record.is_problem:
        await lock_names(session, [placement_lock(record.entity_id, record.category)])
        placement = PlacementPass(uow, rules)
        current = [record.incident_id] if record.incident_id is not None else []
        await placement.load([record], current, lock=True)
        if current:
            reason = "record linked to the entity by an operator"
            await placement.relocate(Report(record, actor, entity), current[0], change="entity_linked", reason=reason)
        else:
            await placement.place(Report(record, actor, entity))
        await placement.write()
    await session.flush()
    return record, entity
