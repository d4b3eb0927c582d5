"""drop ix_source_records_entity_id: ix_source_records_unlinked (entity_id, received_at) serves its lookups

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05 03:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # An index on entity_id alone repeats the leading column of ix_source_records_unlinked: every
    # lookup by entity_id can use that one, and each insert paid for both.
    with op.batch_alter_table("source_records", schema=None) as batch_op:
        batch_op.drop_index("ix_source_records_entity_id")


def downgrade() -> None:
    with op.batch_alter_table("source_records", schema=None) as batch_op:
        batch_op.create_index("ix_source_records_entity_id", ["entity_id"], unique=False)
