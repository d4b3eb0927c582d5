"""HTTP for feed definitions (admins install, update and restore them) and the list of sources
every screen reads its department names, short labels and colours from."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from service.deps import AdminDep, CallerDep, SessionDep, StateDep
from service.feeds.adapters import Adapter
from service.feeds.definitions.adapter import DefinitionAdapter
from service.feeds.definitions.models import FeedDefinitionVersion
from service.feeds.definitions.store import (
    Installed,
    definition_versions,
    install_definition,
    restore_definition,
)
from service.state import AppState
from service.vocabulary import Source

router = APIRouter(tags=["feeds"])

SourcePath = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
MAX_DEFINITION_CHARS = 200_000


class DefinitionIn(BaseModel):
    definition: str = Field(min_length=1, max_length=MAX_DEFINITION_CHARS, description="the TOML text")


class RestoreIn(BaseModel):
    version: int = Field(ge=1)


class DefinitionVersionOut(BaseModel):
    source: Source
    version: int
    installed_at: datetime
    installed_by: str
    restored_from: int | None
    text: str | None = Field(default=None, description="the TOML as installed (in the list of versions)")
    unchanged: bool = Field(
        default=False, description="the text was the version in force already: nothing was stored (200, not 201)"
    )


class SourceOut(BaseModel):
    source: Source
    name: str = Field(description="the department's name: 消防救援")
    label: str = Field(description="the short label of badges: 消防")
    colour: str = Field(description="#rrggbb")
    defined_by: str = Field(description="python (an adapter module), shipped (a definition in the package), stored")
    version: int | None = Field(default=None, description="the stored definition's version in force")


def _version_out(
    row: FeedDefinitionVersion, *, with_text: bool = False, unchanged: bool = False
) -> DefinitionVersionOut:
    return DefinitionVersionOut(
        source=row.source, version=row.version, installed_at=row.installed_at, installed_by=row.installed_by,
        restored_from=row.restored_from, text=row.text if with_text else None, unchanged=unchanged,
    )  # fmt: skip


async def _installed(state: AppState, installed: Installed, response: Response) -> DefinitionVersionOut:
    """After the commit: this worker at once; the others at their next check."""
    if installed.unchanged:
        response.status_code = 200
    else:
        await state.definitions.refresh(force=True)
    return _version_out(installed.row, unchanged=installed.unchanged)


@router.post("/feeds/definitions", response_model=DefinitionVersionOut, status_code=201)
async def add_definition(
    body: DefinitionIn, state: StateDep, caller: AdminDep, response: Response
) -> DefinitionVersionOut:
    """Install a definition (a new source, or the next version of one); every worker reads by it within a second."""
    async with state.db.transaction() as uow:
        installed = await install_definition(uow, body.definition, caller.actor, state.adapters)
    return await _installed(state, installed, response)


@router.put("/feeds/definitions/{source}", response_model=DefinitionVersionOut)
async def update_definition(
    source: SourcePath, body: DefinitionIn, state: StateDep, caller: AdminDep, response: Response
) -> DefinitionVersionOut:
    """The next version of a source's definition (its ``source`` must be this one)."""
    async with state.db.transaction() as uow:
        installed = await install_definition(uow, body.definition, caller.actor, state.adapters, expected_source=source)
    return await _installed(state, installed, response)


@router.post("/feeds/definitions/{source}/restore", response_model=DefinitionVersionOut, status_code=201)
async def restore(
    source: SourcePath, body: RestoreIn, state: StateDep, caller: AdminDep, response: Response
) -> DefinitionVersionOut:
    """Bring back an earlier version: it becomes the next version, and the ledger says so."""
    async with state.db.transaction() as uow:
        installed = await restore_definition(uow, source, body.version, caller.actor, state.adapters)
    return await _installed(state, installed, response)


@router.get("/feeds/definitions/{source}/versions", response_model=list[DefinitionVersionOut])
async def versions(source: SourcePath, session: SessionDep, _admin: AdminDep) -> list[DefinitionVersionOut]:
    """Every stored version of a source's definition, newest first, with its text."""
    return [_version_out(row, with_text=True) for row in await definition_versions(session, source)]


@router.get("/sources", response_model=list[SourceOut])
async def sources(state: StateDep, _caller: CallerDep) -> list[SourceOut]:
    """Every department this service takes records from, with the name, label and colour screens show."""
    # Asked once per page load, or by a screen that met a department it does not know: always the
    # table's latest (one cheap query), so a definition installed a moment ago, on any worker, is in it.
    await state.definitions.refresh(force=True)
    return [_source_out(source, state.adapters.get(source), state) for source in state.adapters.known_sources()]


def _source_out(source: str, adapter: Adapter, state: AppState) -> SourceOut:
    if isinstance(adapter, DefinitionAdapter):
        definition = adapter.definition
        stored = state.definitions.stored.get(source)
        return SourceOut(
            source=source, name=definition.name, label=definition.label, colour=definition.colour,
            defined_by="stored" if stored else "shipped", version=stored.version if stored else None,
        )  # fmt: skip
    module: Any = adapter
    return SourceOut(
        source=source, name=getattr(module, "NAME", source), label=getattr(module, "LABEL", source),
        colour=getattr(module, "COLOUR", "#9aa5b1"), defined_by="python",
    )  # fmt: skip
