"""visits: the 人民情感日志 visit log, one row per visit (personal data: operators and admins read it)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import service.db.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("visit_id", sa.String(length=128), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("community", sa.String(length=100), nullable=False),
        sa.Column("visitee_kind", sa.String(length=8), nullable=False),
        sa.Column("visitee", sa.String(length=300), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_phone", sa.String(length=32), nullable=True),
        sa.Column("cadre", sa.String(length=200), nullable=False),
        sa.Column(
            "needs", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "urgent_needs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("satisfaction", sa.String(length=8), nullable=True),
        sa.Column("received_by", sa.String(length=128), nullable=False),
        sa.Column("received_at", service.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
        sa.UniqueConstraint("visit_id", name="uq_visits_visit_id"),
    )
    op.create_index("ix_visits_visited_on", "visits", ["visited_on"])
    op.create_index("ix_visits_community", "visits", ["community"])


def downgrade() -> None:
    op.drop_index("ix_visits_community", table_name="visits")
    op.drop_index("ix_visits_visited_on", table_name="visits")
    op.drop_table("visits")
