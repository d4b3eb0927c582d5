"""feed_definitions: every version of the departments' feed definitions installed at run time

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 08:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feed_definitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("installed_at", service.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("installed_by", sa.String(length=128), nullable=False),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_definitions")),
        sa.UniqueConstraint("source", "version", name=op.f("uq_feed_definitions_source")),
    )


def downgrade() -> None:
    op.drop_table("feed_definitions")
