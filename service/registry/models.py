"""The register: one entity, one file (一店一档)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, JSONType, UTCDateTime


class Entity(Base):
    __tablename__ = "entities"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    legal_name: Mapped[str | None] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(JSONType, default=list)
    uscc: Mapped[str | None] = mapped_column(String(32))
    uscc_valid: Mapped[bool] = mapped_column(Boolean, default=False)
    address: Mapped[str | None] = mapped_column(String(300))
    address_norm: Mapped[str | None] = mapped_column(String(100))  # road + number key
    name_norm: Mapped[str] = mapped_column(String(200))
    community: Mapped[str | None] = mapped_column(String(100))
    grid: Mapped[str | None] = mapped_column(String(64))
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    phone: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_entities_uscc", "uscc"),
        Index("ix_entities_name_norm", "name_norm"),
        Index("ix_entities_address_norm", "address_norm"),
        Index("ix_entities_grid", "grid"),
        Index("ix_entities_updated_at", "updated_at"),
    )

    def __repr__(self) -> str:
        return f"Entity({self.id!r}, {self.name!r})"


def entity_as_dict(entity: Entity) -> dict[str, Any]:
    return {
        "id": entity.id,
        "kind": entity.kind,
        "name": entity.name,
        "legal_name": entity.legal_name,
        "aliases": list(entity.aliases or []),
        "uscc": entity.uscc,
        "uscc_valid": entity.uscc_valid,
        "address": entity.address,
        "community": entity.community,
        "grid": entity.grid,
        "lat": entity.lat,
        "lng": entity.lng,
        "phone": entity.phone,
        "status": entity.status,
    }
