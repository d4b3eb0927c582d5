"""The words incidents are described in, shared by every department's adapter, the API and the wall."""

from __future__ import annotations

# The unified classification every department's categories map to (docs/adapters.md), with its zh-CN label.
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
