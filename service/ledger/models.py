"""The ledger: append-only events in one hash chain, and its head."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, JSONType, UTCDateTime


class LedgerEvent(Base):
    __tablename__ = "ledger_events"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    incident_id: Mapped[int | None] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    incident: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # state after the event
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_ledger_events_incident_id", "incident_id"),)


class LedgerHead(Base):
    """One row. Locking it serialises appends, so commit order is seq order (docs/architecture.md)."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))
    epoch: Mapped[str] = mapped_column(String(64))


class AppMeta(Base):
    """Small shared values every worker must agree on (token signing secret, register version)."""

    __tablename__ = "app_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))
