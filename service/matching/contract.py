"""What callers hand the matcher and what they get back (values only, no behaviour)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from service.matching.scoring import Evidence

METHODS = ("uscc", "name_address", "name", "address", "nearby", "none")


@dataclass(frozen=True, slots=True)
class EntityRef:
    """What the matcher needs to know of one register entity (coordinates in WGS-84)."""

    id: str
    name: str
    legal_name: str | None = None
    aliases: tuple[str, ...] = ()
    uscc: str | None = None  # only a valid code is used; anything else is ignored
    address: str | None = None
    lat: float | None = None
    lng: float | None = None
    community: str | None = None  # the 居委 it lies in; read by residents' complaint linking, not here


@dataclass(frozen=True, slots=True)
class MatchQuery:
    """What a department record says about its entity (coordinates in WGS-84)."""

    name: str | None = None
    address: str | None = None
    uscc: str | None = None  # as written; an invalid code is ignored here (the caller flags it)
    lat: float | None = None
    lng: float | None = None


class Candidate(NamedTuple):
    """One possible entity for a record, with its score (0–1) and why, for the operator's queue."""

    entity_id: str
    score: float
    evidence: Evidence | None = None

    @property
    def detail(self) -> str:
        """Why, in one short line (``name=exact address=near 12m``); written only when read."""
        return self.evidence.describe() if self.evidence is not None else ""


@dataclass(slots=True)
class MatchResult:
    """The decision: ``entity_id`` is None when the record waits in the unlinked queue."""

    entity_id: str | None
    method: str  # one of METHODS
    score: float
    candidates: list[Candidate]


@dataclass(frozen=True, slots=True)
class MatchThresholds:
    """When a best candidate is good enough to link.

    ``margin`` is in log-odds: the best must be at least e^margin times likelier than the
    runner-up (1.5 ≈ 4.5 times), whatever the absolute level, so two strong look-alikes never
    link and a clear winner among weak alternatives does.
    """

    link_score: float = 0.85
    margin: float = 1.5
    candidate_limit: int = 5
    # Location alone never links, and beyond ~80 m it no longer supports a name: farther
    # entities are found only through their name, code or address.
    nearby_radius_m: float = 100.0
    # A name key shared by more entities than this (a big chain) is too common to block on;
    # such names still count as evidence for candidates found by address or location.
    name_block_limit: int = 64


DEFAULT_THRESHOLDS = MatchThresholds()
