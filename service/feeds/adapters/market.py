"""市场监管 检查记录: one row of the daily export (CSV in GBK, XLSX) or one pushed JSON object with
the same Chinese field names (docs/adapters.md), read by its feed definition
(service/feeds/definitions/builtin/market.toml); this module names it for the registry.

A row whose measure (处理措施) is 通过 is an inspection record for the entity's file, not a
problem. Values from XLSX may be numbers or date cells; text fields take numbers as their digits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.feeds.definitions import builtin_adapter
from service.feeds.normalized import NormalizedRecord

SOURCE = "market"
ID_FIELD = "记录编号"
_ADAPTER = builtin_adapter(SOURCE)
NAME, LABEL, COLOUR = _ADAPTER.definition.name, _ADAPTER.definition.label, _ADAPTER.definition.colour

COLUMNS: tuple[str, ...] = (
    "记录编号", "统一社会信用代码", "主体名称", "经营场所", "许可证编号", "检查日期", "检查类型",
    "检查事项", "检查结果", "处理措施", "问题描述", "整改期限", "食品安全等级", "检查机构", "检查人员",
)  # fmt: skip
# Without these a row cannot be understood; the file import checks the header for them.
REQUIRED_COLUMNS: tuple[str, ...] = _ADAPTER.REQUIRED_COLUMNS


def parse(item: dict[str, Any], *, now: datetime | None = None) -> NormalizedRecord:
    """One inspection record as a NormalizedRecord; RecordRejected names every bad field."""
    return _ADAPTER.parse(item, now=now)
