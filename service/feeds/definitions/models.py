"""Feed definitions installed at run time: every version of every source's definition, as written."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, UTCDateTime


class FeedDefinitionVersion(Base):
    """One version of a source's definition; the highest version of a source is the one in force."""

    __tablename__ = "feed_definitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)  # the TOML as it was sent, comments and all
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    installed_by: Mapped[str] = mapped_column(String(128))
    restored_from: Mapped[int | None] = mapped_column(Integer)  # the version whose text this one brought back

    __table_args__ = (UniqueConstraint("source", "version"),)
