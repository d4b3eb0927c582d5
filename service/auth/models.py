"""Who may call: department keys, display keys, and people with passwords."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, UTCDateTime, WordType
from service.vocabulary import Role


class Principal(Base):
    __tablename__ = "principals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))  # "user" | "key"
    name: Mapped[str] = mapped_column(String(64), unique=True)  # user name, or the key's label
    role: Mapped[Role] = mapped_column(WordType(Role, 16))
    source: Mapped[str | None] = mapped_column(String(32))  # department keys only
    key_id: Mapped[str | None] = mapped_column(String(32), unique=True)  # public part of a key
    secret_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_principals_role", "role"),)
