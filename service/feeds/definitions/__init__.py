"""Declarative feed definitions: a department as a TOML file instead of a Python adapter.

``model`` is the format (pydantic), ``loading`` reads TOML and names each mistake by its key,
``adapter`` is the generic adapter a definition becomes, ``hooks`` the code a definition may name.
The definitions that ship with the service (fire, health) are the ``*.toml`` files here.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from service.feeds.definitions.adapter import DefinitionAdapter
from service.feeds.definitions.loading import DefinitionError, load_definition, parse_definition
from service.feeds.definitions.model import FeedDefinition

__all__ = [
    "DefinitionAdapter",
    "DefinitionError",
    "FeedDefinition",
    "builtin_adapter",
    "load_definition",
    "parse_definition",
    "shipped_definitions",
]


def shipped_definitions() -> list[FeedDefinition]:
    """The definitions that ship in the package, by file name."""
    folder = resources.files(__name__)
    files = sorted((entry for entry in folder.iterdir() if entry.name.endswith(".toml")), key=lambda e: e.name)
    return [parse_definition(entry.read_text("utf-8"), f"service/feeds/definitions/{entry.name}") for entry in files]


@cache
def builtin_adapter(source: str) -> DefinitionAdapter:
    """The adapter of a built-in department (police, market, city) from its definition in builtin/."""
    entry = resources.files(__name__).joinpath("builtin", f"{source}.toml")
    return DefinitionAdapter(
        parse_definition(entry.read_text("utf-8"), f"service/feeds/definitions/builtin/{source}.toml")
    )
