"""What GET /painpoints answers."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class Period(BaseModel):
    start: date = Field(description="first local day (Asia/Shanghai), inclusive")
    end: date = Field(description="last local day, inclusive")


class CommunityCount(BaseModel):
    community: str = Field(description="居委; 未知 when neither the register nor the address says")
    count: int


class KindCounts(BaseModel):
    hotline: int = Field(description="12345 work orders (records with a theme)")
    visits: int = Field(description="needs ticked in the visit log")
    departments: int = Field(description="the departments' problem records, by their category's theme")


class PainPoint(BaseModel):
    rank: int
    theme: str
    label: str = Field(description="the theme's zh-CN name: 噪声扰民, 停车 …")
    count: int
    previous_count: int = Field(description="the same theme in the previous period of equal length")
    change: int = Field(description="count − previous_count")
    change_ratio: float | None = Field(description="change / previous_count; null when previous_count is 0")
    trend: str = Field(description="up | down | flat | new (none in the previous period)")
    by_kind: KindCounts
    communities: list[CommunityCount] = Field(description="the communities most affected, most first (at most 3)")


class PainPoints(BaseModel):
    period: Period
    previous: Period
    community: str | None
    total: int = Field(description="every complaint, need and problem counted in the period")
    previous_total: int
    items: list[PainPoint] = Field(description="the themes with a count in the period, most first")
    communities: list[CommunityCount] = Field(description="the communities most affected overall (at most 10)")
    unknown_community: int = Field(description="how many of the period's counts have no known community (未知)")
