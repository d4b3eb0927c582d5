"""How serious a report is: a base level per unified category, raised by what the source says.

| category | base | why |
|---|---|---|
| fire | high | risk to life; 占用消防通道 and 私拉电线 included |
| food | medium | public health |
| order, traffic | medium | people involved, police attend |
| noise, price, licence, street_order, appearance, waste, other | low | nuisance or paperwork |

Source hints (each adapter applies its own): a police call is at least medium and a fire
actually burning (0401 火灾) is critical; a market measure sets the level (通过 low, 限期整改
medium, 立即停止经营/立案调查 high), and a result of 不符合 raises it to the category's base.
"""

from __future__ import annotations

from service.incidents.vocabulary import SEVERITIES

SEVERITY_BY_CATEGORY: dict[str, str] = {
    "fire": "high",
    "food": "medium",
    "order": "medium",
    "traffic": "medium",
    "noise": "low",
    "price": "low",
    "licence": "low",
    "street_order": "low",
    "appearance": "low",
    "waste": "low",
    "other": "low",
}


def base_severity(category: str) -> str:
    """The category's level from the table; "medium" for a category the table does not know."""
    return SEVERITY_BY_CATEGORY.get(category, "medium")


def at_least(level: str, floor: str) -> str:
    """The more serious of two levels."""
    return max(level, floor, key=SEVERITIES.index)
