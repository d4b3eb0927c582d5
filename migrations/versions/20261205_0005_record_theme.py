"""source_records.theme: the theme of a resident's complaint (hotline), null for department records

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("source_records", sa.Column("theme", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column("source_records", "theme")
