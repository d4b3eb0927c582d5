"""The domain's words: every closed vocabulary the service, its API and the frontend speak, spelled once.

Each is a ``StrEnum``: a member is a ``str``, so it is stored, compared, hashed and sent as the
word itself, and the OpenAPI schema lists the words (the frontend's types are generated from it).
The database keeps them as plain VARCHARs (``db.base.WordType``). What the words mean lives with
their rules: who may do what in auth/roles.py, which status may follow which in
incidents/lifecycle.py.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field


class Word(StrEnum):
    """A word of a closed vocabulary. Its repr is the word's own, so a 422 for a bad value lists the
    words a client may send ("Input should be 'admin' or 'operator'"), not ``<Role.ADMIN: 'admin'>``."""

    def __repr__(self) -> str:
        return repr(self.value)


class Role(Word):
    """Who a caller is (auth/roles.py says which role may do what)."""

    ADMIN = "admin"  # everything an operator may, plus users, keys and webhooks
    OPERATOR = "operator"  # the command centre: dispatch, close, link, merge
    INSPECTOR = "inspector"  # in the field: the incidents assigned to them
    DEPARTMENT = "department"  # a department's key: sends its own source's records
    DISPLAY = "display"  # a wall screen's key: reads the live picture


class Status(Word):
    """Where an incident stands (incidents/lifecycle.py says which may follow which)."""

    NEW = "new"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    MERGED = "merged"


class Category(Word):
    """The unified classification every department's categories map to (docs/adapters.md)."""

    FOOD = "food"
    LICENCE = "licence"
    PRICE = "price"
    STREET_ORDER = "street_order"
    APPEARANCE = "appearance"
    WASTE = "waste"
    NOISE = "noise"
    FIRE = "fire"
    ORDER = "order"
    TRAFFIC = "traffic"
    OTHER = "other"


# Each category's zh-CN name, as the API (category_name), the wall and the exports show it.
CATEGORY_NAMES: dict[Category, str] = {
    Category.FOOD: "食品安全",
    Category.LICENCE: "证照经营",
    Category.PRICE: "价格计量",
    Category.STREET_ORDER: "街面秩序",
    Category.APPEARANCE: "市容环境",
    Category.WASTE: "垃圾分类",
    Category.NOISE: "噪声扰民",
    Category.FIRE: "消防安全",
    Category.ORDER: "治安秩序",
    Category.TRAFFIC: "交通秩序",
    Category.OTHER: "其他求助",
}


class Severity(Word):
    """How serious a report is, least first (an incident takes its most serious report's)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


SEVERITIES: tuple[Severity, ...] = tuple(Severity)  # least serious first

# A department, by its source key (police, market, city today). Not an enum on purpose: the sources
# are the adapters a deployment configures (CB_EXTRA_ADAPTERS) — and, with issue 14, declarative
# definitions installed at run time — so a key is checked against the running adapter registry
# (feeds.adapters.AdapterRegistry, the known sources a key or a push is validated against), never
# against a list fixed in code.
Source = Annotated[str, Field(description="a department's source key, one of the sources this deployment knows")]
