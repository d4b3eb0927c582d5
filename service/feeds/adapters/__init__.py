"""The department adapters, found by their source key, and what they share (base, phone, severity).

Every department that ships with the service (police, market, city, fire, health, hotline) is a
feed definition (service/feeds/definitions/shipped/*.toml) read by the generic DefinitionAdapter;
definitions installed at run time add or update sources. An adapter may still be a Python module
(see ``Adapter``: ``SOURCE``, ``ID_FIELD`` and ``parse``) named in configuration as
``{"source": "importable.module.path"}`` (setting ``CB_EXTRA_ADAPTERS``) and loaded with
importlib, for a source no definition can describe. One such module is built in: ``visits``, the
人民情感日志 visit log, which is kept in its own table and is not a department's record stream.
See docs/adapters.md.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import ModuleType
from typing import Any, Protocol, cast

from service.feeds.normalized import NormalizedRecord

# Python adapters built in: sources no definition can describe.
BUILTIN_ADAPTERS: dict[str, str] = {
    # 人民情感日志: kept in its own table by service/visits; only its urgent needs become reports.
    "visits": "service.feeds.adapters.visits",
}

# Source keys appear in URLs (/feeds/{source}/records) and in the database (String(32)).
SOURCE_KEY = re.compile(r"[a-z][a-z0-9_]{0,31}")


class Adapter(Protocol):
    """What a source's adapter module provides.

    ``SOURCE`` is the source key; ``ID_FIELD`` the native name of the record id field (used to
    name the id in per-row reports even when a record is rejected); ``parse`` turns one native
    record into a NormalizedRecord or raises RecordRejected naming every bad field, with ``now``
    (aware) as the reference for "not in the future" checks, the current time when None.
    """

    @property
    def SOURCE(self) -> str: ...

    @property
    def ID_FIELD(self) -> str: ...

    def parse(self, item: dict[str, Any], *, now: datetime | None = None) -> NormalizedRecord: ...


class UnknownSourceError(LookupError):
    """No adapter is configured for this source key."""

    def __init__(self, source: str, known: tuple[str, ...]):
        self.source = source
        super().__init__(f"unknown source {source!r}; known sources: {', '.join(known)}")


class AdapterConfigError(ValueError):
    """An extra adapter named in configuration cannot be used (bad key, import error, wrong shape)."""


class AdapterRegistry:
    """The adapters of this deployment: the shipped definitions, the built-in modules and those named in configuration.

    ``definitions`` defaults to the shipped definitions' adapters. Every module is imported and
    checked when the registry is built, so a misconfigured deployment fails at start-up, not at
    the first record.
    """

    def __init__(self, extra_adapters: Mapping[str, str] | None = None, definitions: Iterable[Adapter] | None = None):
        from service.feeds.definitions import FIRST, shipped_adapters  # the definitions import this package

        if definitions is None:
            definitions = shipped_adapters()
        self._adapters: dict[str, Adapter] = {}
        self._configured = set(extra_adapters or ())
        # Listed as ever: police, market and city, the built-in modules, then the other definitions.
        definitions = list(definitions)
        for adapter in definitions:  # feed definitions (service/feeds/definitions), already checked
            if adapter.SOURCE in FIRST:
                self._adapters[adapter.SOURCE] = adapter
        for source, module_path in BUILTIN_ADAPTERS.items():
            self._adapters[source] = _load(source, module_path)
        for adapter in definitions:
            if adapter.SOURCE in BUILTIN_ADAPTERS:
                raise AdapterConfigError(f"the definition of {adapter.SOURCE!r} names a source that is built in")
            self._adapters.setdefault(adapter.SOURCE, adapter)
        for source, module_path in (extra_adapters or {}).items():
            if source in self._adapters:
                raise AdapterConfigError(f"source {source!r} is built in; give the extra adapter another key")
            if not isinstance(source, str) or not SOURCE_KEY.fullmatch(source):
                raise AdapterConfigError(
                    f"source key {source!r}: use 1–32 lowercase letters, digits or _, starting with a letter"
                )
            self._adapters[source] = _load(source, module_path)

    def install(self, adapter: Adapter) -> None:
        """Add or replace a definition's adapter (a feed definition installed at run time)."""
        if self.has_python_adapter(adapter.SOURCE):
            raise AdapterConfigError(f"source {adapter.SOURCE!r} has a Python adapter; a definition cannot replace it")
        self._adapters[adapter.SOURCE] = adapter

    def has_python_adapter(self, source: str) -> bool:
        """Whether the source is read by a Python module (built in or configured), not by a definition."""
        return source in BUILTIN_ADAPTERS or source in self._configured

    def get(self, source: str) -> Adapter:
        try:
            return self._adapters[source]
        except KeyError:
            raise UnknownSourceError(source, self.known_sources()) from None

    def known_sources(self) -> tuple[str, ...]:
        return tuple(self._adapters)


def _load(source: str, module_path: str) -> Adapter:
    try:
        module = importlib.import_module(module_path)
    except ImportError as exc:
        raise AdapterConfigError(f"adapter for {source!r}: cannot import {module_path!r} ({exc})") from exc
    _check_shape(source, module_path, module)
    return cast(Adapter, module)


def _check_shape(source: str, module_path: str, module: ModuleType) -> None:
    declared = getattr(module, "SOURCE", None)
    if declared != source:
        raise AdapterConfigError(f"adapter {module_path!r} declares SOURCE={declared!r}, configured as {source!r}")
    id_field = getattr(module, "ID_FIELD", None)
    if not isinstance(id_field, str) or not id_field:
        raise AdapterConfigError(f"adapter {module_path!r} has no ID_FIELD naming its record id field")
    if not callable(getattr(module, "parse", None)):
        raise AdapterConfigError(f"adapter {module_path!r} has no parse(item, *, now=None) function")
