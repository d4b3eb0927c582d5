from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from service.matching.geo import CHINA_LAT, CHINA_LNG
from service.matching.uscc import malformed_uscc, normalize_uscc
from service.vocabulary import Source

EntityKind = Literal["shop", "hospital", "school", "other"]


def check_uscc_format(value: str | None) -> str | None:
    """A credit code must at least be 18 characters of its alphabet; a wrong check character is
    accepted and flagged (uscc_valid false), since the register must hold the code as issued."""
    if not value or not value.strip():
        return None
    problem = malformed_uscc(normalize_uscc(value))
    if problem:
        raise ValueError(problem)
    return value


def _both_coordinates(model: EntityIn | EntityPatch) -> EntityIn | EntityPatch:
    """A point needs both numbers: lat alone would place the entity on no map and link nothing nearby."""
    given = [name for name in ("lat", "lng") if name in model.model_fields_set and getattr(model, name) is not None]
    if len(given) == 1:
        missing = "lng" if given == ["lat"] else "lat"
        raise PydanticCustomError(
            "coordinates", "required with {given} (both, or neither)", {"field": missing, "given": given[0]}
        )
    return model


class EntityIn(BaseModel):
    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_\-]{1,64}$", description="generated when absent")
    kind: EntityKind = "shop"
    name: str = Field(min_length=1, max_length=200)
    legal_name: str | None = Field(default=None, max_length=200)
    aliases: list[str] = Field(default_factory=list, max_length=50)
    uscc: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=300)
    community: str | None = Field(default=None, max_length=100)
    grid: str | None = Field(default=None, max_length=64)
    lat: float | None = Field(default=None, ge=CHINA_LAT[0], le=CHINA_LAT[1])
    lng: float | None = Field(default=None, ge=CHINA_LNG[0], le=CHINA_LNG[1])
    phone: str | None = Field(default=None, max_length=64)

    _uscc_format = field_validator("uscc")(check_uscc_format)
    _coordinates = model_validator(mode="after")(_both_coordinates)


class EntityPatch(BaseModel):
    kind: EntityKind | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    legal_name: str | None = Field(default=None, max_length=200)
    aliases: list[str] | None = Field(default=None, max_length=50)
    uscc: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=300)
    community: str | None = Field(default=None, max_length=100)
    grid: str | None = Field(default=None, max_length=64)
    lat: float | None = Field(default=None, ge=CHINA_LAT[0], le=CHINA_LAT[1])
    lng: float | None = Field(default=None, ge=CHINA_LNG[0], le=CHINA_LNG[1])
    phone: str | None = Field(default=None, max_length=64)
    status: Literal["open", "closed"] | None = None

    _uscc_format = field_validator("uscc")(check_uscc_format)
    _coordinates = model_validator(mode="after")(_both_coordinates)

    @field_validator("kind", "name", "status", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:  # leave the field out to keep it; null cannot clear what every entity has
            raise ValueError("may be left out, but cannot be null")
        return value


class EntityOut(BaseModel):
    id: str
    kind: str
    name: str
    legal_name: str | None
    aliases: list[str]
    uscc: str | None
    uscc_valid: bool
    address: str | None
    community: str | None
    grid: str | None
    lat: float | None
    lng: float | None
    phone: str | None
    status: str


class EntityList(BaseModel):
    items: list[EntityOut]
    total: int


class TimelineItem(BaseModel):
    at: str
    kind: Literal["record", "event"]
    source: Source | None
    title: str
    incident_id: int | None
    record_id: int | None
    type: str | None = None


class ComplaintTheme(BaseModel):
    theme: str
    label: str = Field(description="the theme's zh-CN name: 噪声扰民, 油烟 …")
    count: int
    last_at: str = Field(description="when the latest of them was made, ISO 8601")


class EntityFile(EntityOut):
    records: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    timeline: list[TimelineItem]
    complaints: list[ComplaintTheme] = Field(
        default_factory=list,
        description="the residents' complaints about this entity (hotline orders linked to it, the records with "
        "a theme), counted by theme, most first; the complaints themselves are among the records",
    )


class MapPoint(BaseModel):
    id: str
    name: str
    kind: str
    lat: float
    lng: float
    grid: str | None


class MapPoints(BaseModel):
    entities: list[MapPoint]
