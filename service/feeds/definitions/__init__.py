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
    "builtin_adapter",
    "load_definition",
    "parse_definition",
    "shipped_definitions",
]


SHIPPED = "shipped"  # the folder of the definitions that ship with the service


def shipped_definitions(*, include_builtin: bool = False) -> list[FeedDefinition]:
    """The definitions that ship in the package (shipped/*.toml), by file name.

    Police, market and city are read by their Python adapters (BUILTIN_ADAPTERS) unless
    ``include_builtin``; their definitions are checked against those adapters in the tests.
    """
    from service.feeds.adapters import BUILTIN_ADAPTERS

    folder = resources.files(__name__).joinpath(SHIPPED)
    files = sorted((entry for entry in folder.iterdir() if entry.name.endswith(".toml")), key=lambda e: e.name)
    files = [entry for entry in files if include_builtin or entry.name.removesuffix(".toml") not in BUILTIN_ADAPTERS]
    return [
        parse_definition(entry.read_text("utf-8"), f"service/feeds/definitions/{SHIPPED}/{entry.name}")
        for entry in files
    ]


@cache
def builtin_adapter(source: str) -> DefinitionAdapter:
    """The adapter a shipped definition (shipped/<source>.toml) becomes."""
    entry = resources.files(__name__).joinpath(SHIPPED, f"{source}.toml")
    return DefinitionAdapter(
        parse_definition(entry.read_text("utf-8"), f"service/feeds/definitions/{SHIPPED}/{source}.toml")
    )
