"""Installing feed definitions at run time: every change a new version and a ledger event, and
every worker's adapters kept in step with the table (DefinitionCatalog).

A version is never changed or deleted: an update adds the next version, and restoring version
N adds a new version with N's text. The highest version of a source is the one in force; it
replaces a shipped definition of the same source, never a Python adapter.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.database import Database, UnitOfWork
from service.errors import Conflict, NotFound, Unprocessable
from service.feeds.adapters import AdapterRegistry
from service.feeds.definitions.adapter import DefinitionAdapter
from service.feeds.definitions.format import FeedDefinition
from service.feeds.definitions.loading import DefinitionError, parse_definition
from service.feeds.definitions.models import FeedDefinitionVersion
from service.kit.clock import utcnow
from service.ledger.service import append_event

EVENT_TYPE = "feed_definition_installed"
REFRESH_EVERY_S = 1.0  # how stale a worker's definitions may be for a source it already knows


@dataclass(frozen=True)
class Installed:
    row: FeedDefinitionVersion  # the version in force after the call
    definition: FeedDefinition
    unchanged: bool = False  # the text was the version in force already: nothing was stored


def check_definition_text(text: str, adapters: AdapterRegistry, origin: str = "definition") -> FeedDefinition:
    """The definition, or Unprocessable naming every mistake by its key path (as ``feeds check`` prints them)."""
    try:
        definition = parse_definition(text, origin)
    except DefinitionError as exc:
        details = [_detail(problem) for problem in exc.problems]
        raise Unprocessable(f"the definition has {len(details)} mistake(s)", details) from None
    if adapters.has_python_adapter(definition.source):
        raise Conflict(f"source {definition.source!r} is read by a Python adapter; a definition cannot replace it")
    return definition


def _detail(problem: str) -> dict[str, str]:
    field, _, reason = problem.partition(": ")
    return {"field": field, "reason": reason} if reason else {"field": "(definition)", "reason": problem}


async def install_definition(
    uow: UnitOfWork, text: str, actor: str, adapters: AdapterRegistry, *, expected_source: str | None = None,
    restored_from: int | None = None,
) -> Installed:  # fmt: skip
    """Store the definition as the source's next version and record it in the ledger (flushes, never commits).
    The very text of the version in force stores nothing: a resend or a restore of it is no change."""
    definition = check_definition_text(text, adapters)
    if expected_source is not None and definition.source != expected_source:
        raise Unprocessable(
            f"the definition is for {definition.source!r}, not {expected_source!r}",
            [{"field": "source", "reason": f"expected {expected_source!r}"}],
        )
    session = uow.session
    current = await _current_row(session, definition.source)
    if current is not None and current.text == text:
        return Installed(current, definition, unchanged=True)
    previous = current.version if current is not None else 0
    row = FeedDefinitionVersion(
        source=definition.source, version=previous + 1, text=text, installed_at=utcnow(), installed_by=actor,
        restored_from=restored_from,
    )  # fmt: skip
    session.add(row)
    await session.flush()
    await append_event(
        uow,
        type=EVENT_TYPE,
        actor=actor,
        incident_id=None,
        data={
            "source": definition.source, "version": row.version, "previous_version": previous or None,
            "restored_from": restored_from, "name": definition.name, "label": definition.label,
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        },
    )  # fmt: skip
    return Installed(row, definition)


async def restore_definition(
    uow: UnitOfWork, source: str, version: int, actor: str, adapters: AdapterRegistry
) -> Installed:
    """Bring back an earlier version's text as the source's next version."""
    old = await uow.session.scalar(
        select(FeedDefinitionVersion).where(
            FeedDefinitionVersion.source == source, FeedDefinitionVersion.version == version
        )
    )
    if old is None:
        raise NotFound(f"no version {version} of the {source!r} definition")
    return await install_definition(uow, old.text, actor, adapters, expected_source=source, restored_from=version)


async def definition_versions(session: AsyncSession, source: str) -> Sequence[FeedDefinitionVersion]:
    """Every stored version of a source's definition, newest first."""
    rows = (
        await session.scalars(
            select(FeedDefinitionVersion)
            .where(FeedDefinitionVersion.source == source)
            .order_by(FeedDefinitionVersion.version.desc())
        )
    ).all()
    if not rows:
        raise NotFound(f"no stored definition for {source!r}")
    return rows


async def current_versions(session: AsyncSession) -> list[FeedDefinitionVersion]:
    """The version in force of every source with a stored definition."""
    latest = (
        select(FeedDefinitionVersion.source, func.max(FeedDefinitionVersion.version).label("version"))
        .group_by(FeedDefinitionVersion.source)
        .subquery()
    )
    rows = await session.scalars(
        select(FeedDefinitionVersion)
        .join(
            latest,
            (FeedDefinitionVersion.source == latest.c.source) & (FeedDefinitionVersion.version == latest.c.version),
        )
        .order_by(FeedDefinitionVersion.source)
    )
    return list(rows.all())


async def _current_row(session: AsyncSession, source: str) -> FeedDefinitionVersion | None:
    return await session.scalar(
        select(FeedDefinitionVersion)
        .where(FeedDefinitionVersion.source == source)
        .order_by(FeedDefinitionVersion.version.desc())
        .limit(1)
    )


class DefinitionCatalog:
    """Keeps one worker's adapter registry in step with the stored definitions.

    Each worker checks the table's newest id (one cheap query) before serving a request that needs
    the sources, at most once per REFRESH_EVERY_S, and at once when a request names a source it does
    not know; a change made on another worker is in force here within that time, without a restart.
    """

    def __init__(self, db: Database, adapters: AdapterRegistry):
        self.db = db
        self.adapters = adapters
        self.stored: dict[str, FeedDefinitionVersion] = {}  # source → the version in force
        self._seen_id = 0
        self._checked_at = float("-inf")
        self._lock = asyncio.Lock()

    async def refresh(self, *, force: bool = False) -> bool:
        """Install what changed since the last look; True when something did."""
        if not force and time.monotonic() - self._checked_at < REFRESH_EVERY_S:
            return False
        async with self._lock:
            if not force and time.monotonic() - self._checked_at < REFRESH_EVERY_S:
                return False
            self._checked_at = time.monotonic()
            async with self.db.session() as session:
                newest = await session.scalar(select(func.max(FeedDefinitionVersion.id))) or 0
                if newest <= self._seen_id:
                    return False
                rows = await current_versions(session)
            for row in rows:
                if self.stored.get(row.source) is not None and self.stored[row.source].version == row.version:
                    continue
                # Checked when it was installed; a definition that no longer loads (a newer release
                # tightened the format) keeps the previous adapter rather than stopping the worker.
                try:
                    definition = parse_definition(row.text, f"{row.source} v{row.version}")
                except DefinitionError:
                    continue
                self.adapters.install(DefinitionAdapter(definition))
                self.stored[row.source] = row
            self._seen_id = newest
            return True

    async def refresh_sources(self) -> None:
        """For callers that need every source now (a key for a new department)."""
        await self.refresh(force=True)
