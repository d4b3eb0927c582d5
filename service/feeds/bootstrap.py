from __future__ import annotations

from datetime import timedelta

from service.feeds.adapters import AdapterRegistry
from service.feeds.definitions.store import DefinitionCatalog
from service.feeds.pipeline import IngestPipeline
from service.feeds.resolver import EntityResolver
from service.incidents.merging import MergeSettings
from service.incidents.placement import PlacementRules
from service.incidents.sla import DEFAULT_SLA_RULES, parse_sla_rules
from service.settings import Settings
from service.state import AppState


def build_adapters(settings: Settings) -> AdapterRegistry:
    """This deployment's adapters before the stored definitions are read: the shipped feed definitions
    and configured modules (a DefinitionCatalog adds the installed definitions)."""
    return AdapterRegistry(settings.extra_adapters)


async def start_feeds(state: AppState) -> None:
    settings = state.settings
    state.adapters = build_adapters(settings)
    state.definitions = DefinitionCatalog(state.db, state.adapters)
    await state.definitions.refresh(force=True)
    state.placement_rules = PlacementRules(
        merge=MergeSettings(window=timedelta(hours=settings.merge_window_hours), distance_m=settings.merge_distance_m),
        sla=parse_sla_rules(settings.sla_rules) if settings.sla_rules else dict(DEFAULT_SLA_RULES),
    )
    state.resolver = EntityResolver()
    async with state.db.session() as session:
        await state.resolver.refresh(session, force=True)
    state.ingest = IngestPipeline(state.db, state.resolver, state.placement_rules)
    state.ingest.start()
    state.stoppers.append(state.ingest.stop)
