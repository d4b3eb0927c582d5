"""What the visit log's routes answer."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class VisitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    visit_id: str = Field(description="走访编号, the visit log's own id")
    revision: int
    visited_on: date = Field(description="走访日期")
    community: str = Field(description="居委")
    visitee_kind: str = Field(description="住户 or 单位")
    visitee: str = Field(description="the household's address or the unit's name (personal data)")
    contact_name: str | None = Field(description="联系人, always masked")
    contact_phone: str | None = Field(description="联系电话, always masked: 139****0000")
    cadre: str = Field(description="走访干部")
    needs: list[str] = Field(description="the needs ticked, from the fixed list")
    urgent_needs: list[str] = Field(description="the needs marked 急: each opened a problem report")
    note: str = Field(description="需求说明, phone numbers masked")
    satisfaction: str | None
    received_at: datetime
    updated_at: datetime


class VisitList(BaseModel):
    items: list[VisitOut]
    total: int
