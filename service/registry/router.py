"""HTTP for the register: search, one entity's file, create and change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.deps import FieldDep, IncidentReaderDep, OperatorDep, PageLimit, PageOffset, SessionDep, StateDep
from service.registry import service
from service.registry.models import entity_as_dict
from service.registry.schemas import (
    EntityIn,
    EntityList,
    EntityOut,
    EntityPatch,
    MapPoint,
    MapPoints,
)

router = APIRouter(tags=["entities"])


@router.get("/entities", response_model=EntityList)
async def search_entities(
    session: SessionDep,
    _caller: FieldDep,
    q: Annotated[
        str | None, Query(max_length=100, description="name, alias, legal name, credit code or address")
    ] = None,
    grid: Annotated[str | None, Query(max_length=64)] = None,
    kind: Annotated[str | None, Query(max_length=16)] = None,
    limit: PageLimit = 50,
    offset: PageOffset = 0,
) -> EntityList:
    rows, total = await service.search_entities(session, q, grid, kind, limit, offset)
    return EntityList(items=[EntityOut(**entity_as_dict(e)) for e in rows], total=total)


@router.post("/entities", response_model=EntityOut, status_code=201)
async def create_entity(body: EntityIn, state: StateDep, _caller: OperatorDep) -> EntityOut:
    async with state.db.transaction() as uow:
        entity = await service.create_entity(uow.session, body.model_dump())
    return EntityOut(**entity_as_dict(entity))


@router.patch("/entities/{entity_id}", response_model=EntityOut)
async def update_entity(entity_id: str, body: EntityPatch, state: StateDep, _caller: OperatorDep) -> EntityOut:
    async with state.db.transaction() as uow:
        entity = await service.update_entity(uow.session, entity_id, body.model_dump(exclude_unset=True))
    return EntityOut(**entity_as_dict(entity))


@router.get("/map/entities", response_model=MapPoints)
async def map_points(session: SessionDep, _caller: IncidentReaderDep) -> MapPoints:
    """Every located, open entity, for the wall's map."""
    rows = await service.located_open_entities(session)
    return MapPoints(
        entities=[MapPoint(id=r.id, name=r.name, kind=r.kind, lat=r.lat, lng=r.lng, grid=r.grid) for r in rows]
    )
