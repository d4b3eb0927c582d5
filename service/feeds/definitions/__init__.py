"""Declarative feed definitions: a department as a TOML file instead of a Python adapter.

``format`` is the definition format (pydantic), ``loading`` reads TOML and names each mistake by
its key, ``adapter`` is the generic adapter a definition becomes, ``hooks`` the code a definition
may name, ``models`` the table of installed versions, ``store`` installs and restores them.
Every definition that ships with the service is a ``*.toml`` file in ``shipped/``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from service.feeds.definitions.adapter import DefinitionAdapter
from service.feeds.definitions.format import FeedDefinition
from service.feeds.definitions.loading import DefinitionError, load_definition, parse_definition

__all__ = [
    "DefinitionAdapter",
    "DefinitionError",
    "FeedDefinition",
    "load_definition",
    "parse_definition",
    "shipped_adapter",
    "shipped_adapters",
    "shipped_definitions",
]


SHIPPED = "shipped"  # the folder of the definitions that ship with the service
# The departments the service started with come first wherever sources are listed, as they always have.
FIRST = ("police", "market", "city")


def shipped_definitions() -> list[FeedDefinition]:
    """The definitions that ship in the package (shipped/*.toml): police, market and city, then by file name."""
    folder = resources.files(__name__).joinpath(SHIPPED)
    names = sorted(entry.name.removesuffix(".toml") for entry in folder.iterdir() if entry.name.endswith(".toml"))
    names = [name for name in FIRST if name in names] + [name for name in names if name not in FIRST]
    return [shipped_adapter(name).definition for name in names]


@cache
def shipped_adapter(source: str) -> DefinitionAdapter:
    """The adapter a shipped definition (shipped/<source>.toml) becomes, compiled once."""
    entry = resources.files(__name__).joinpath(SHIPPED, f"{source}.toml")
    origin = f"service/feeds/definitions/{SHIPPED}/{source}.toml"
    return DefinitionAdapter(parse_definition(entry.read_text("utf-8"), origin))


def shipped_adapters() -> list[DefinitionAdapter]:
    """Every shipped definition's adapter, in the order of shipped_definitions."""
    return [shipped_adapter(definition.source) for definition in shipped_definitions()]
