"""Time helpers: everything is stored as aware UTC; people see Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_today_start(now: datetime | None = None) -> datetime:
    """Midnight of today in Shanghai, as an aware UTC datetime."""
    local = (now or utcnow()).astimezone(SHANGHAI)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
