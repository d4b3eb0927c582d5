"""公安 警情推送: one JSON object per incident call (docs/adapters.md), read by its feed definition
(service/feeds/definitions/builtin/police.toml); this module names it for the registry.

The caller's phone (``bjrdh``) is personal data: the definition masks it (``personal``, mode
"phone"), and the raw number is scrubbed from every other text of the record and from error
messages too (service/feeds/adapters/phone.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.feeds.adapters.phone import PhoneScrubber, mask_phone_value
from service.feeds.definitions import builtin_adapter
from service.feeds.normalized import NormalizedRecord
from service.kit.personal import mask_phone

SOURCE = "police"
ID_FIELD = "jjdbh"
PHONE_FIELD = "bjrdh"
_ADAPTER = builtin_adapter(SOURCE)
NAME, LABEL, COLOUR = _ADAPTER.definition.name, _ADAPTER.definition.label, _ADAPTER.definition.colour

# 报警类别代码 → (报警类别, unified category), as the definition's table says
CATEGORY_BY_CODE: dict[str, tuple[str, str]] = {
    code: (entry.label or code, entry.category) for code, entry in _ADAPTER.definition.category.map.items()
}
FIRE_BURNING = "0401"  # 火灾: a fire now, not a hazard — the one police code that is critical

__all__ = [
    "CATEGORY_BY_CODE",
    "ID_FIELD",
    "PHONE_FIELD",
    "SOURCE",
    "PhoneScrubber",
    "mask_phone",
    "mask_phone_value",
    "parse",
]


def parse(item: dict[str, Any], *, now: datetime | None = None) -> NormalizedRecord:
    """One police call as a NormalizedRecord; RecordRejected names every bad field."""
    return _ADAPTER.parse(item, now=now)
