"""城管 案件推送 (数字城管): one JSON object per case (docs/adapters.md), read by its feed definition
(service/feeds/definitions/builtin/city.toml); this module names it for the registry.

Locations arrive in GCJ-02 (the default when ``location.crs`` is absent) and are converted to
WGS-84, the register's datum. A resent ``taskId`` with a later ``stage`` is a new revision of the
same record; deciding that is the ingest service's business, not the adapter's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.feeds.definitions import builtin_adapter
from service.feeds.normalized import NormalizedRecord

SOURCE = "city"
ID_FIELD = "taskId"
_ADAPTER = builtin_adapter(SOURCE)
NAME, LABEL, COLOUR = _ADAPTER.definition.name, _ADAPTER.definition.label, _ADAPTER.definition.colour

# 事项代码 (GB/T 47678.5-2026) → (categoryName, unified category), as the definition's table says
CATEGORY_BY_CODE: dict[str, tuple[str, str]] = {
    code: (entry.label or code, entry.category) for code, entry in _ADAPTER.definition.category.map.items()
}


def parse(item: dict[str, Any], *, now: datetime | None = None) -> NormalizedRecord:
    """One city-management case as a NormalizedRecord; RecordRejected names every bad field."""
    return _ADAPTER.parse(item, now=now)
