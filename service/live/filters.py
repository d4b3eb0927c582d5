"""Which events a client gets: grid, source and category it asked for, and for an inspector only the
incidents assigned to them; matched on the incident's state after the event.

Each parameter may be repeated or comma-separated (`grid=A,B&grid=C`); values of one parameter
are alternatives, different parameters must all match. Matching the state *after* the event is
enough for a wall: grid and category do not change, and sources only grow, so an incident that
enters a filter arrives with its full state and none leaves it silently. The assignee is the one
facet that changes: an incident given to someone else leaves the inspector's view, and the
inspector gets a `removed` message in that event's place (same seq, no content).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from service.live.protocol import LiveMessage

MAX_VALUES = 50
MAX_VALUE_LENGTH = 64


class BadFilter(ValueError):
    """A filter parameter the stream cannot use."""


@dataclass(frozen=True)
class LiveFilter:
    grids: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    assignee: str | None = None  # an inspector's stream: only the incidents assigned to them

    @property
    def is_empty(self) -> bool:
        return not (self.grids or self.sources or self.categories or self.assignee is not None)

    def pick(self, message: LiveMessage) -> LiveMessage | None:
        """What this client gets for an event: the event, its removal (the incident left the
        inspector's view with it), or nothing."""
        facets = message.facets
        if self.matches(facets):
            return message
        return message.removal if self.releases(facets) else None

    def releases(self, facets: Mapping[str, Any] | None) -> bool:
        """Whether the event took an incident this client was shown out of its view (facets_of)."""
        return (
            self.assignee is not None
            and facets is not None
            and facets.get("released_by") == self.assignee
            and self.matches({**facets, "assignee": self.assignee})
        )

    def matches(self, incident: Mapping[str, Any] | None) -> bool:
        if self.is_empty:
            return True
        if incident is None:
            return False
        if self.assignee is not None and incident.get("assignee") != self.assignee:
            return False
        if self.grids and incident.get("grid") not in self.grids:
            return False
        if self.categories and incident.get("category") not in self.categories:
            return False
        if self.sources:
            sources = incident.get("sources") or ()
            if not any(source in self.sources for source in sources):
                return False
        return True


def _values(raw: Iterable[str], name: str) -> frozenset[str]:
    values = {part.strip() for item in raw for part in item.split(",") if part.strip()}
    if len(values) > MAX_VALUES:
        raise BadFilter(f"{name}: at most {MAX_VALUES} values")
    for value in values:
        if len(value) > MAX_VALUE_LENGTH:
            raise BadFilter(f"{name}: values are at most {MAX_VALUE_LENGTH} characters")
    return frozenset(values)


def parse_filter(params: Mapping[str, list[str]]) -> LiveFilter:
    """Build a filter from query parameters given as name → all its values."""
    return LiveFilter(
        grids=_values(params.get("grid", ()), "grid"),
        sources=_values(params.get("source", ()), "source"),
        categories=_values(params.get("category", ()), "category"),
    )
