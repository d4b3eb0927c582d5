"""The themes a resident's complaint is classified into, and the unified category each one files under.

The residents' own themes (噪声扰民, 油烟, 占道经营 …) and the unified categories that residents
complain about in their own words (食品安全, 证照经营 …) are one list of classes: a complaint gets
one theme, and its theme decides the incident's unified category (service/vocabulary.py).
"""

from __future__ import annotations

from typing import NamedTuple

from service.vocabulary import Category


class Theme(NamedTuple):
    key: str
    label: str
    category: Category


THEMES: tuple[Theme, ...] = (
    Theme("noise", "噪声扰民", Category.NOISE),
    Theme("fumes", "油烟", Category.APPEARANCE),
    Theme("street_vending", "占道经营", Category.STREET_ORDER),
    Theme("group_rental", "群租", Category.ORDER),
    Theme("parking", "停车", Category.TRAFFIC),
    Theme("elevator", "电梯", Category.OTHER),
    Theme("property", "物业", Category.OTHER),
    Theme("garbage", "垃圾", Category.WASTE),
    Theme("illegal_building", "违法搭建", Category.APPEARANCE),
    Theme("food", "食品安全", Category.FOOD),
    Theme("licence", "证照经营", Category.LICENCE),
    Theme("price", "价格计量", Category.PRICE),
    Theme("fire", "消防安全", Category.FIRE),
    Theme("order", "治安秩序", Category.ORDER),
    Theme("appearance", "市容环境", Category.APPEARANCE),
    Theme("other", "其他", Category.OTHER),
)

THEME_KEYS: tuple[str, ...] = tuple(theme.key for theme in THEMES)
THEME_BY_KEY: dict[str, Theme] = {theme.key: theme for theme in THEMES}


def category_of_theme(theme_key: str) -> Category:
    """The unified category a theme files under (``other`` for an unknown key)."""
    theme = THEME_BY_KEY.get(theme_key)
    return theme.category if theme else Category.OTHER


# A department's problem record has a unified category, not a theme: the theme it counts under in the
# pain points (service/painpoints). The one place this mapping is written. Traffic from a department
# is counted as 停车 and waste as 垃圾, as residents word those problems (docs/residents.md).
CATEGORY_THEMES: dict[Category, str] = {
    Category.FOOD: "food",
    Category.LICENCE: "licence",
    Category.PRICE: "price",
    Category.STREET_ORDER: "street_vending",
    Category.APPEARANCE: "appearance",
    Category.WASTE: "garbage",
    Category.NOISE: "noise",
    Category.FIRE: "fire",
    Category.ORDER: "order",
    Category.TRAFFIC: "parking",
    Category.OTHER: "other",
}


def theme_of_category(category: Category | str) -> str:
    """The theme a department's category counts under (``other`` for one this build does not know)."""
    try:
        return CATEGORY_THEMES[Category(category)]
    except ValueError:
        return "other"
