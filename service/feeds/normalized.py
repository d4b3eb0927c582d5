"""The one shape every department adapter produces, whatever its native format."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# The unified classification of ../shared/feeds/README.md §5.
CATEGORIES: dict[str, str] = {
    "food": "食品安全",
    "licence": "证照经营",
    "price": "价格计量",
    "street_order": "街面秩序",
    "appearance": "市容环境",
    "waste": "垃圾分类",
    "noise": "噪声扰民",
    "fire": "消防安全",
    "order": "治安秩序",
    "traffic": "交通秩序",
    "other": "其他求助",
}

SEVERITIES = ("low", "medium", "high", "critical")


@dataclass(frozen=True, slots=True)
class FieldError:
    """Why one field of one record was refused: the field's native name and the reason."""

    field: str
    reason: str


@dataclass(slots=True)
class NormalizedRecord:
    """A department record turned into the service's terms.

    ``payload`` is the record as received (personal data already masked);
    every other field is derived from it by the source's adapter.
    """

    source: str
    source_record_id: str
    payload: dict[str, Any]
    category: str  # one of CATEGORIES
    occurred_at: datetime  # aware, UTC
    is_problem: bool  # False: kept in the entity's file, opens no incident
    title: str
    description: str = ""
    name: str | None = None  # the entity's name as the department wrote it
    address: str | None = None
    uscc: str | None = None  # as written; validity is the matcher's business
    lat: float | None = None  # WGS-84
    lng: float | None = None
    severity: str = "medium"  # one of SEVERITIES
    status_text: str | None = None  # the department's own status word (jqzt, stage, 处理措施)
    extra: dict[str, Any] = field(default_factory=dict)


class RecordRejected(Exception):
    """A record that cannot be accepted; ``errors`` name each field and the reason."""

    def __init__(self, source_record_id: str | None, errors: list[FieldError]):
        self.source_record_id = source_record_id
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))
