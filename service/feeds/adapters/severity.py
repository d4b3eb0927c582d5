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

from service.vocabulary import SEVERITIES, Category, Severity

SEVERITY_BY_CATEGORY: dict[Category, Severity] = {
    Category.FIRE: Severity.HIGH,
    Category.FOOD: Severity.MEDIUM,
    Category.ORDER: Severity.MEDIUM,
    Category.TRAFFIC: Severity.MEDIUM,
    Category.NOISE: Severity.LOW,
    Category.PRICE: Severity.LOW,
    Category.LICENCE: Severity.LOW,
    Category.STREET_ORDER: Severity.LOW,
    Category.APPEARANCE: Severity.LOW,
    Category.WASTE: Severity.LOW,
    Category.OTHER: Severity.LOW,
}


def base_severity(category: Category) -> Severity:
    """The category's level from the table; medium for a category the table does not know."""
    return SEVERITY_BY_CATEGORY.get(category, Severity.MEDIUM)


def at_least(level: Severity, floor: Severity) -> Severity:
    """The more serious of two levels."""
    return max(level, floor, key=SEVERITIES.index)
