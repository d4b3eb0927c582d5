"""The one shape every department adapter produces, whatever its native format."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from service.vocabulary import Category, Severity

REVISION_KEY_PREFIX = "r:"  # a revision_key, never a content hash (64 hex digits)
_REVISION_DIGITS = 30


def revision_key(text: str) -> str:
    """A source's revision (版本号 3, or a time 2026-11-03 14:20) as a key that sorts as it should:
    whole numbers by value, anything else as text. At most 64 characters, like a content hash."""
    if text.isascii() and text.isdigit() and len(text.lstrip("0")) <= _REVISION_DIGITS:
        return f"{REVISION_KEY_PREFIX}n:{text.lstrip('0').zfill(_REVISION_DIGITS)}"
    return f"{REVISION_KEY_PREFIX}t:{text}"[:64]


@dataclass(slots=True)
class NormalizedRecord:
    """A department record turned into the service's terms.

    ``payload`` is the record as received (personal data already masked);
    every other field is derived from it by the source's adapter.
    """

    source: str
    source_record_id: str
    payload: dict[str, Any]
    category: Category
    occurred_at: datetime  # aware, UTC
    is_problem: bool  # False: kept in the entity's file, opens no incident
    title: str
    description: str = ""
    name: str | None = None  # the entity's name as the department wrote it
    address: str | None = None
    uscc: str | None = None  # as written; validity is the matcher's business
    lat: float | None = None  # WGS-84
    lng: float | None = None
    severity: Severity = Severity.MEDIUM
    status_text: str | None = None  # the department's own status word (jqzt, stage, 处理措施)
    theme: str | None = None  # a resident's complaint: the theme its text was classified as (service/residents)
    # For a source that numbers its revisions (a definition's record.revision rule "field"): the
    # revision as an ordered key (revision_key), which ingest compares instead of the content hash.
    revision: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
