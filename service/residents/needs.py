"""The fixed list of needs a visiting cadre ticks in the visit log (人民情感日志), and the theme each
need counts under in the pain points: the one place the list and its mapping are written.

A visit sends its needs by these names (docs/adapters.md, "Visit logs"); anything else the
household said goes into the free text, which is not classified. Needs that are no complaint about
a place (养老服务, 就医, 就业) count under 其他: the pain points rank the residents' themes.
"""

from __future__ import annotations

from typing import NamedTuple

from service.residents.themes import THEME_BY_KEY


class Need(NamedTuple):
    name: str  # as the visit log writes it
    theme: str  # a key of service/residents/themes.py


NEEDS: tuple[Need, ...] = (
    Need("噪声扰民", "noise"),
    Need("油烟扰民", "fumes"),
    Need("占道经营", "street_vending"),
    Need("群租整治", "group_rental"),
    Need("停车难", "parking"),
    Need("加装电梯", "elevator"),
    Need("电梯维修", "elevator"),
    Need("物业服务", "property"),
    Need("垃圾清运", "garbage"),
    Need("违法搭建", "illegal_building"),
    Need("食品安全", "food"),
    Need("消防安全", "fire"),
    Need("治安防范", "order"),
    Need("环境卫生", "appearance"),
    Need("养老服务", "other"),
    Need("就医就业", "other"),
    Need("其他", "other"),
)

NEED_NAMES: tuple[str, ...] = tuple(need.name for need in NEEDS)
NEED_THEMES: dict[str, str] = {need.name: need.theme for need in NEEDS}

assert all(need.theme in THEME_BY_KEY for need in NEEDS), "a need counts under a theme that does not exist"


def theme_of_need(name: str) -> str:
    """The theme a need counts under (``other`` for a name that is not on the list)."""
    return NEED_THEMES.get(name, "other")
