"""HTTP for one entity's file."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import FieldDep, SessionDep
from service.dossier.file import entity_file
from service.registry.schemas import EntityFile

router = APIRouter(tags=["entities"])


@router.get("/entities/{entity_id}", response_model=EntityFile)
async def get_entity_file(entity_id: str, session: SessionDep, caller: FieldDep) -> EntityFile:
    """One entity's whole file: details, every department's records, incidents and a timeline. An
    inspector sees only the incidents assigned to them, and only those incidents' records."""
    return await entity_file(session, entity_id, caller.assignee_scope)
